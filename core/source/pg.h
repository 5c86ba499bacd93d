/* libpq helpers: connect with a timeout, run a query, turn libpq's words into
 * pgr_error values with hints. The only room besides ops/ that talks to libpq. */
#ifndef PGR_PG_H
#define PGR_PG_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

/* Connect (connect_timeout applied, application_name=pgrescue). dbname_override
 * replaces the database of the DSN when not NULL. NULL on failure. */
PGconn *pgr_pg_connect(const char *dsn, const char *dbname_override, int timeout_sec, struct pgr_error *err);
/* Run a statement; *res (may be NULL) receives the result on success. */
bool pgr_pg_exec(PGconn *conn, const char *sql, PGresult **res, struct pgr_error *err);
/* Run with text parameters. */
bool pgr_pg_execp(PGconn *conn, const char *sql, int nparams, const char *const *params, PGresult **res,
                  struct pgr_error *err);
/* First column of the first row as a new string (NULL value -> NULL with success). */
bool pgr_pg_value(PGconn *conn, const char *sql, char **out, struct pgr_error *err);
/* True if the conninfo string carries a password (forbidden in the config). */
bool pgr_pg_dsn_has_password(const char *dsn);
/* The dbname of a conninfo (or service) string; newly allocated, NULL if none. */
char *pgr_pg_dsn_dbname(const char *dsn);
/* Quote an identifier ("schema"."table"); newly allocated. */
char *pgr_pg_quote_ident(PGconn *conn, const char *ident);

#endif
