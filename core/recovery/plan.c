/* Plans as data: building, printing and the JSON a run keeps on disk. The
 * environment travels as its INI text, so the runner parses and validates
 * it exactly as a config file would be. */
#include "config.h"

#include "recovery/plan.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/xalloc.h"

const char *pgr_kv_get(const struct pgr_kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->items[i].key, key))
			return l->items[i].value;
	return NULL;
}

void pgr_kv_set(struct pgr_kvlist *l, const char *key, const char *value)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->items[i].key, key)) {
			free(l->items[i].value);
			l->items[i].value = xstrdup(value ? value : "");
			return;
		}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->items = xrealloc(l->items, l->cap * sizeof *l->items);
	}
	l->items[l->n].key = xstrdup(key);
	l->items[l->n].value = xstrdup(value ? value : "");
	l->n++;
}

void pgr_kv_setf(struct pgr_kvlist *l, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *v = NULL;
	if (vasprintf(&v, fmt, ap) < 0)
		v = NULL;
	va_end(ap);
	pgr_kv_set(l, key, v ? v : "");
	free(v);
}

void pgr_kv_free(struct pgr_kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
	memset(l, 0, sizeof *l);
}

void pgr_plan_init(struct pgr_plan *p, const char *kind, const struct pgr_env *env)
{
	memset(p, 0, sizeof *p);
	p->kind = xstrdup(kind);
	if (env)
		pgr_env_copy(&p->env, env);
	else
		pgr_env_defaults(&p->env);
}

static void step_free(struct pgr_step *s)
{
	free(s->id);
	free(s->title);
	free(s->command);
	free(s->undo);
	pgr_kv_free(&s->params);
}

void pgr_plan_free(struct pgr_plan *p)
{
	free(p->kind);
	free(p->run_id);
	free(p->summary);
	free(p->incident);
	free(p->reason);
	free(p->notes);
	pgr_env_free(&p->env);
	pgr_kv_free(&p->params);
	for (size_t i = 0; i < p->n_steps; i++)
		step_free(&p->steps[i]);
	free(p->steps);
	memset(p, 0, sizeof *p);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct pgr_step *pgr_plan_add_step(struct pgr_plan *p, const char *id, const char *title, const char *command,
                                   const char *undo, bool destructive)
{
	p->steps = xrealloc(p->steps, (p->n_steps + 1) * sizeof *p->steps);
	struct pgr_step *s = &p->steps[p->n_steps++];
	memset(s, 0, sizeof *s);
	s->id = xstrdup(id);
	s->title = xstrdup(title ? title : id);
	s->command = dup_or_null(command);
	s->undo = dup_or_null(undo);
	s->destructive = destructive;
	return s;
}

const struct pgr_step *pgr_plan_step(const struct pgr_plan *p, const char *id)
{
	for (size_t i = 0; i < p->n_steps; i++)
		if (!strcmp(p->steps[i].id, id))
			return &p->steps[i];
	return NULL;
}

bool pgr_plan_destructive(const struct pgr_plan *p)
{
	for (size_t i = 0; i < p->n_steps; i++)
		if (p->steps[i].destructive)
			return true;
	return false;
}

/* ---------------------------------------------------------------- JSON */

static cJSON *kv_to_json(const struct pgr_kvlist *l)
{
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < l->n; i++)
		cJSON_AddStringToObject(o, l->items[i].key, l->items[i].value);
	return o;
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

char *pgr_plan_to_json(const struct pgr_plan *p)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "format_version", 1);
	add_str(o, "kind", p->kind);
	add_str(o, "run_id", p->run_id);
	add_str(o, "summary", p->summary);
	add_str(o, "incident", p->incident);
	add_str(o, "reason", p->reason);
	add_str(o, "notes", p->notes);
	char *ini = pgr_env_to_ini(&p->env);
	cJSON_AddStringToObject(o, "env_name", p->env.name ? p->env.name : "");
	cJSON_AddStringToObject(o, "env", ini);
	free(ini);
	cJSON_AddItemToObject(o, "params", kv_to_json(&p->params));
	cJSON *steps = cJSON_AddArrayToObject(o, "steps");
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct pgr_step *s = &p->steps[i];
		cJSON *j = cJSON_CreateObject();
		add_str(j, "id", s->id);
		add_str(j, "title", s->title);
		add_str(j, "command", s->command);
		add_str(j, "undo", s->undo);
		cJSON_AddBoolToObject(j, "destructive", s->destructive);
		cJSON_AddBoolToObject(j, "gate", s->gate);
		cJSON_AddItemToObject(j, "params", kv_to_json(&s->params));
		cJSON_AddItemToArray(steps, j);
	}
	char *text = cJSON_Print(o);
	cJSON_Delete(o);
	return text;
}

static char *get_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

static void kv_from_json(const cJSON *o, struct pgr_kvlist *l)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, o)
	{
		if (cJSON_IsString(it) && it->string)
			pgr_kv_set(l, it->string, it->valuestring);
	}
}

bool pgr_plan_from_json(const char *text, const char *source, struct pgr_plan *p, struct pgr_error *err)
{
	memset(p, 0, sizeof *p);
	cJSON *o = cJSON_Parse(text);
	if (!o || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		pgr_error_set(err, PGR_ERR_IO, "%s: not a pgrescue plan (invalid JSON)", source);
		pgr_error_hint(err, "The run directory is damaged; start a new plan.");
		return false;
	}
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(o, "format_version");
	const cJSON *steps = cJSON_GetObjectItemCaseSensitive(o, "steps");
	char *envtext = get_str(o, "env");
	if (!cJSON_IsNumber(ver) || ver->valueint != 1 || !cJSON_IsArray(steps) || !envtext) {
		free(envtext);
		cJSON_Delete(o);
		pgr_error_set(err, PGR_ERR_IO, "%s: not a pgrescue plan of format 1", source);
		pgr_error_hint(err, "Was it written by another version of pgrescue? Start a new plan.");
		return false;
	}
	struct pgr_config cfg = {0};
	if (!pgr_config_parse_string(envtext, source, &cfg, err) || cfg.n_envs != 1) {
		free(envtext);
		pgr_config_free(&cfg);
		cJSON_Delete(o);
		if (!pgr_error_isset(err))
			pgr_error_set(err, PGR_ERR_IO, "%s: the plan's environment is missing", source);
		pgr_error_prefix(err, "reading the plan's environment");
		return false;
	}
	free(envtext);
	p->kind = get_str(o, "kind");
	if (!p->kind)
		p->kind = xstrdup("");
	p->run_id = get_str(o, "run_id");
	p->summary = get_str(o, "summary");
	p->incident = get_str(o, "incident");
	p->reason = get_str(o, "reason");
	p->notes = get_str(o, "notes");
	pgr_env_copy(&p->env, &cfg.envs[0]);
	char *name = get_str(o, "env_name");
	if (name && *name)
		pgr_env_set(&p->env.name, name);
	free(name);
	pgr_config_free(&cfg);
	kv_from_json(cJSON_GetObjectItemCaseSensitive(o, "params"), &p->params);
	const cJSON *js;
	cJSON_ArrayForEach(js, steps)
	{
		char *id = get_str(js, "id");
		char *title = get_str(js, "title");
		char *command = get_str(js, "command");
		char *undo = get_str(js, "undo");
		struct pgr_step *s =
		        pgr_plan_add_step(p, id ? id : "?", title, command, undo,
		                          cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(js, "destructive")));
		s->gate = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(js, "gate"));
		kv_from_json(cJSON_GetObjectItemCaseSensitive(js, "params"), &s->params);
		free(id);
		free(title);
		free(command);
		free(undo);
	}
	cJSON_Delete(o);
	return true;
}

/* ---------------------------------------------------------------- text */

static void indent_lines(struct strbuf *sb, const char *prefix, const char *text)
{
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		sb_append(sb, prefix);
		sb_append_len(sb, p, n);
		sb_append(sb, "\n");
		p += n + (nl ? 1 : 0);
	}
}

char *pgr_plan_text(const struct pgr_plan *p)
{
	struct strbuf sb = STRBUF_INIT;
	sb_printf(&sb, "Plan: %s\n", p->summary ? p->summary : p->kind);
	sb_printf(&sb, "  environment  %s\n", p->env.name ? p->env.name : "?");
	if (p->incident || p->reason)
		sb_printf(&sb, "  incident     %s%s%s\n", p->incident ? p->incident : "(none)",
		          p->reason && *p->reason ? ": " : "", p->reason ? p->reason : "");
	if (p->run_id)
		sb_printf(&sb, "  run          %s\n", p->run_id);
	if (p->notes && *p->notes) {
		sb_append(&sb, "\n");
		indent_lines(&sb, "  ", p->notes);
	}
	sb_append(&sb, "\nSteps:\n");
	for (size_t i = 0; i < p->n_steps; i++) {
		const struct pgr_step *s = &p->steps[i];
		sb_printf(&sb, "%2zu. %s%s%s\n", i + 1, s->title, s->destructive ? "  [destructive]" : "",
		          s->gate ? "  [waits for `pgrescue runs resume`]" : "");
		if (s->command && *s->command)
			indent_lines(&sb, "      $ ", s->command);
		if (s->undo && *s->undo)
			indent_lines(&sb, "      undo: ", s->undo);
	}
	return sb_steal(&sb);
}

void pgr_plan_print(const struct pgr_plan *p, FILE *out)
{
	char *t = pgr_plan_text(p);
	fputs(t, out);
	free(t);
}
