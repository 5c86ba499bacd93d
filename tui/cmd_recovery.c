#include "commands.h"
int cmd_restore(const struct globals *g, int argc, char **argv)
{
	(void)g;
	(void)argc;
	(void)argv;
	return usage_error("not built yet");
}
int cmd_pitr(const struct globals *g, int argc, char **argv)
{
	(void)g;
	(void)argc;
	(void)argv;
	return usage_error("not built yet");
}
int cmd_runs(const struct globals *g, int argc, char **argv)
{
	(void)g;
	(void)argc;
	(void)argv;
	return usage_error("not built yet");
}
