/* PLACEHOLDER: to be replaced by the real implementation. */
#include "config.h"
#include <stdbool.h>
#include <stddef.h>
#include "source/pg.h"

PGconn * pgr_pg_connect(const char *dsn, const char *dbname_override, int timeout_sec, struct pgr_error *err)
{
	return NULL;
}

bool pgr_pg_exec(PGconn *conn, const char *sql, PGresult **res, struct pgr_error *err)
{
	return false;
}

bool pgr_pg_execp(PGconn *conn, const char *sql, int nparams, const char *const *params, PGresult **res, struct pgr_error *err)
{
	return false;
}

bool pgr_pg_value(PGconn *conn, const char *sql, char **out, struct pgr_error *err)
{
	return false;
}

bool pgr_pg_dsn_has_password(const char *dsn)
{
	return false;
}

char * pgr_pg_dsn_dbname(const char *dsn)
{
	return NULL;
}

char * pgr_pg_quote_ident(PGconn *conn, const char *ident)
{
	return NULL;
}

