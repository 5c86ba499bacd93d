#include "commands.h"
int cmd_audit(const struct globals *g, int argc, char **argv)
{
	(void)g;
	(void)argc;
	(void)argv;
	return usage_error("audit: not built yet");
}
