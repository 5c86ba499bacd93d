/* libpq helpers (see pg.h). */
#include "config.h"

#include "source/pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

/* libpq's messages end with a newline and may hold several lines. */
static void set_pq_detail(struct pgr_error *err, const char *msg)
{
	if (!msg)
		return;
	pgr_error_detail(err, "%s", msg);
}

static void connect_hint(struct pgr_error *err, const char *msg)
{
	if (!msg)
		return;
	if (strstr(msg, "No such file or directory") || strstr(msg, "Connection refused"))
		pgr_error_hint(err,
		               "Is the server running, and is host/port in the environment's dsn right? "
		               "For the sandbox: pgrescue sandbox up.");
	else if (strstr(msg, "password authentication failed") || strstr(msg, "no password supplied"))
		pgr_error_hint(err, "Passwords never go in pgrescue's config: put them in ~/.pgpass or PGPASSWORD.");
	else if (strstr(msg, "does not exist"))
		pgr_error_hint(err, "Check dbname and user in the environment's dsn.");
	else if (strstr(msg, "timeout"))
		pgr_error_hint(err, "The server did not answer in time; check the network path and the server's load.");
}

PGconn *pgr_pg_connect(const char *dsn, const char *dbname_override, int timeout_sec, struct pgr_error *err)
{
	char tmo[16];
	snprintf(tmo, sizeof tmo, "%d", timeout_sec > 0 ? timeout_sec : 10);
	/* expand_dbname: the first dbname is the whole conninfo; later keys override it. */
	const char *keys[5], *vals[5];
	int n = 0;
	keys[n] = "dbname";
	vals[n++] = dsn && *dsn ? dsn : "";
	keys[n] = "connect_timeout";
	vals[n++] = tmo;
	keys[n] = "application_name";
	vals[n++] = "pgrescue";
	if (dbname_override) {
		keys[n] = "dbname";
		vals[n++] = dbname_override;
	}
	keys[n] = NULL;
	vals[n] = NULL;
	PGconn *conn = PQconnectdbParams(keys, vals, 1);
	if (!conn) {
		pgr_error_set(err, PGR_ERR_DB, "cannot allocate a database connection");
		return NULL;
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		char *safe = pgr_redact_conninfo(dsn);
		pgr_error_set(err, PGR_ERR_DB, "cannot connect to the database (%s)", safe);
		free(safe);
		set_pq_detail(err, PQerrorMessage(conn));
		connect_hint(err, PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

static bool check_result(PGconn *conn, PGresult *r, const char *sql, PGresult **res, struct pgr_error *err)
{
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (res)
			*res = r;
		else
			PQclear(r);
		return true;
	}
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *hint = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_HINT) : NULL;
	const char *detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
	/* Keep the statement short in the message: its first line, at most 80 chars. */
	size_t cut = strcspn(sql, "\n");
	if (cut > 80)
		cut = 80;
	pgr_error_set(err, PGR_ERR_DB, "query failed: %s (in \"%.*s%s\")", msg ? msg : PQerrorMessage(conn), (int)cut,
	              sql, strlen(sql) > cut ? "..." : "");
	if (detail)
		pgr_error_detail(err, "%s", detail);
	if (hint)
		pgr_error_hint(err, "%s", hint);
	PQclear(r);
	return false;
}

bool pgr_pg_exec(PGconn *conn, const char *sql, PGresult **res, struct pgr_error *err)
{
	return check_result(conn, PQexec(conn, sql), sql, res, err);
}

bool pgr_pg_execp(PGconn *conn, const char *sql, int nparams, const char *const *params, PGresult **res,
                  struct pgr_error *err)
{
	return check_result(conn, PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0), sql, res, err);
}

bool pgr_pg_value(PGconn *conn, const char *sql, char **out, struct pgr_error *err)
{
	PGresult *r;
	if (!pgr_pg_exec(conn, sql, &r, err))
		return false;
	*out = NULL;
	if (PQntuples(r) > 0 && PQnfields(r) > 0 && !PQgetisnull(r, 0, 0))
		*out = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return true;
}

bool pgr_pg_dsn_has_password(const char *dsn)
{
	char *errmsg = NULL;
	PQconninfoOption *opts = PQconninfoParse(dsn ? dsn : "", &errmsg);
	bool has = false;
	if (!opts) {
		PQfreemem(errmsg);
		return false;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val && *o->val)
			has = true;
	PQconninfoFree(opts);
	return has;
}

char *pgr_pg_dsn_dbname(const char *dsn)
{
	char *errmsg = NULL;
	PQconninfoOption *opts = PQconninfoParse(dsn ? dsn : "", &errmsg);
	char *out = NULL;
	if (!opts) {
		PQfreemem(errmsg);
		return NULL;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (!strcmp(o->keyword, "dbname") && o->val && *o->val)
			out = xstrdup(o->val);
	PQconninfoFree(opts);
	return out;
}

char *pgr_pg_quote_ident(PGconn *conn, const char *ident)
{
	char *q = PQescapeIdentifier(conn, ident, strlen(ident));
	if (!q)
		return xasprintf("\"%s\"", ident);
	char *out = xstrdup(q);
	PQfreemem(q);
	return out;
}
