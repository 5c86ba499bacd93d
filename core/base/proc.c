/* Child processes (see proc.h). */
#include "config.h"

#include "base/proc.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ERR_TAIL_MAX (64 * 1024)

bool pgr_user_ids(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (getpwnam_r(name, &pw, buf, sizeof buf, &res) != 0 || !res)
		return false;
	if (uid)
		*uid = pw.pw_uid;
	if (gid)
		*gid = pw.pw_gid;
	return true;
}

char *pgr_argv_join(const char *const *argv)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; argv && argv[i]; i++) {
		if (i)
			sb_append(&sb, " ");
		const char *a = argv[i];
		bool plain = *a != '\0';
		for (const char *p = a; *p; p++)
			if (!(strchr("-_./=:,@%+", *p) || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
			      (*p >= 'A' && *p <= 'Z')))
				plain = false;
		if (plain) {
			sb_append(&sb, a);
		} else {
			sb_append(&sb, "'");
			for (const char *p = a; *p; p++) {
				if (*p == '\'')
					sb_append(&sb, "'\\''");
				else
					sb_append_len(&sb, p, 1);
			}
			sb_append(&sb, "'");
		}
	}
	return sb_steal(&sb);
}

/* In the child: async-signal-safe work only, report failures through errpipe. */
static void child_fail(int errpipe, int code)
{
	ssize_t w = write(errpipe, &code, sizeof code);
	(void)w;
	_exit(127);
}

static int io_target(enum pgr_proc_io mode, int fd, int pipe_w, int devnull)
{
	switch (mode) {
	case PGR_IO_PIPE: return pipe_w;
	case PGR_IO_FD: return fd;
	case PGR_IO_INHERIT: return -2;
	case PGR_IO_NULL:
	case PGR_IO_DEFAULT:
	default: return devnull;
	}
}

bool pgr_proc_start(const struct pgr_proc_spec *spec, struct pgr_proc *proc, struct pgr_error *err)
{
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, statp[2] = {-1, -1};
	uid_t uid = 0;
	gid_t gid = 0;
	bool switch_user = false;
	const char *prog = spec->argv[0];

	proc->pid = -1;
	proc->out_fd = proc->err_fd = -1;
	if (spec->run_as && geteuid() == 0 && strcmp(spec->run_as, "root") != 0) {
		if (!pgr_user_ids(spec->run_as, &uid, &gid))
			return pgr_error_set(err, PGR_ERR_TOOL, "cannot run %s as user \"%s\": no such user", prog,
			                     spec->run_as),
			       pgr_error_hint(err,
			                      "Install PostgreSQL's server package, which creates the user, "
			                      "or run pgrescue as a normal user."),
			       false;
		switch_user = true;
	}
	/* Build the environment before fork: no allocation in the child. */
	size_t nenv = 0, nextra = 0;
	while (environ[nenv])
		nenv++;
	while (spec->env && spec->env[nextra])
		nextra++;
	char **envp = xcalloc(nenv + nextra + 1, sizeof *envp);
	size_t k = 0;
	for (size_t i = 0; i < nenv; i++) {
		bool overridden = false;
		const char *eq = strchr(environ[i], '=');
		size_t nl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		for (size_t j = 0; j < nextra; j++)
			if (strncmp(spec->env[j], environ[i], nl) == 0 && spec->env[j][nl] == '=')
				overridden = true;
		if (!overridden)
			envp[k++] = environ[i];
	}
	for (size_t j = 0; j < nextra; j++)
		envp[k++] = (char *)spec->env[j];
	envp[k] = NULL;

	if ((spec->out == PGR_IO_PIPE && pipe2(outp, O_CLOEXEC) < 0) ||
	    (spec->err == PGR_IO_PIPE && pipe2(errp, O_CLOEXEC) < 0) || pipe2(statp, O_CLOEXEC) < 0) {
		int e = errno;
		free(envp);
		return pgr_error_errno(err, e, "cannot create pipes for %s", prog);
	}
	struct passwd pw, *pwres = NULL;
	char pwbuf[4096];
	if (switch_user)
		getpwnam_r(spec->run_as, &pw, pwbuf, sizeof pwbuf, &pwres);

	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		free(envp);
		return pgr_error_errno(err, e, "cannot fork to run %s", prog);
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		if (spec->detach)
			setsid();
		else
			setpgid(0, 0);
		int in = spec->stdin_fd >= 0 ? spec->stdin_fd : devnull;
		int o = io_target(spec->out, spec->out_fd, outp[1], devnull);
		int e = io_target(spec->err, spec->err_fd, errp[1], devnull);
		if (dup2(in, 0) < 0)
			child_fail(statp[1], errno);
		if (o != -2 && dup2(o, 1) < 0)
			child_fail(statp[1], errno);
		if (e != -2 && dup2(e, 2) < 0)
			child_fail(statp[1], errno);
		if (spec->cwd && chdir(spec->cwd) < 0)
			child_fail(statp[1], errno);
		if (switch_user) {
			if (pwres && initgroups(spec->run_as, gid) < 0)
				child_fail(statp[1], errno);
			if (setgid(gid) < 0 || setuid(uid) < 0)
				child_fail(statp[1], errno);
			if (pwres) {
				/* Tools look at HOME for .pgpass; give them the user's own. */
				for (size_t i = 0; envp[i]; i++)
					if (strncmp(envp[i], "HOME=", 5) == 0)
						envp[i] = (char *)"HOME=/nonexistent";
			}
		}
		/* The parent may block signals in its threads; a child must start clean
		 * so that its own timeout (SIGTERM) and ^C work. */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		execve(prog, (char *const *)spec->argv, envp);
		/* Fall back to PATH lookup for bare names. */
		if (!strchr(prog, '/'))
			execvpe(prog, (char *const *)spec->argv, envp);
		child_fail(statp[1], errno);
	}
	free(envp);
	close(statp[1]);
	if (outp[1] >= 0)
		close(outp[1]);
	if (errp[1] >= 0)
		close(errp[1]);
	int child_errno = 0;
	ssize_t r;
	do
		r = read(statp[0], &child_errno, sizeof child_errno);
	while (r < 0 && errno == EINTR);
	close(statp[0]);
	if (r == (ssize_t)sizeof child_errno) {
		int st;
		waitpid(pid, &st, 0);
		if (outp[0] >= 0)
			close(outp[0]);
		if (errp[0] >= 0)
			close(errp[0]);
		pgr_error_errno(err, child_errno, "cannot run %s", prog);
		err->kind = PGR_ERR_TOOL;
		if (child_errno == ENOENT)
			pgr_error_hint(err,
			               "Is PostgreSQL 15 installed (Debian package postgresql-15)? "
			               "Set pg_bindir in the config if its programs live elsewhere.");
		return false;
	}
	proc->pid = pid;
	proc->out_fd = outp[0];
	proc->err_fd = errp[0];
	return true;
}

static void drain(int *fd, struct strbuf *sb, size_t cap)
{
	char buf[16384];
	ssize_t n = read(*fd, buf, sizeof buf);
	if (n > 0) {
		if (sb) {
			sb_append_len(sb, buf, (size_t)n);
			if (cap && sb->len > cap) {
				size_t cut = sb->len - cap;
				memmove(sb->buf, sb->buf + cut, sb->len - cut + 1);
				sb->len -= cut;
			}
		}
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		close(*fd);
		*fd = -1;
	}
}

bool pgr_proc_finish(struct pgr_proc *proc, int timeout_sec, struct pgr_proc_result *res, struct pgr_error *err)
{
	double deadline = timeout_sec > 0 ? pgr_monotonic() + timeout_sec : 0;
	res->timed_out = false;
	while (proc->out_fd >= 0 || proc->err_fd >= 0) {
		struct pollfd pfd[2];
		int n = 0;
		if (proc->out_fd >= 0)
			pfd[n++] = (struct pollfd){.fd = proc->out_fd, .events = POLLIN};
		if (proc->err_fd >= 0)
			pfd[n++] = (struct pollfd){.fd = proc->err_fd, .events = POLLIN};
		int wait_ms = 1000;
		if (deadline > 0) {
			double left = deadline - pgr_monotonic();
			if (left <= 0) {
				res->timed_out = true;
				break;
			}
			wait_ms = left < 1.0 ? (int)(left * 1000) + 1 : 1000;
		}
		int pr = poll(pfd, (nfds_t)n, wait_ms);
		if (pr < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n && pr > 0; i++) {
			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == proc->out_fd)
				drain(&proc->out_fd, &res->out, 0);
			else if (pfd[i].fd == proc->err_fd)
				drain(&proc->err_fd, &res->err, ERR_TAIL_MAX);
		}
	}
	int st = 0;
	bool killed = false;
	for (;;) {
		if (res->timed_out && !killed) {
			kill(-proc->pid, SIGTERM);
			kill(proc->pid, SIGTERM);
			usleep(200000);
			kill(-proc->pid, SIGKILL);
			kill(proc->pid, SIGKILL);
			killed = true;
		}
		pid_t w = waitpid(proc->pid, &st, killed ? 0 : WNOHANG);
		if (w == proc->pid)
			break;
		if (w < 0 && errno != EINTR) {
			st = 0;
			break;
		}
		if (w == 0) {
			if (deadline > 0 && pgr_monotonic() > deadline)
				res->timed_out = true;
			else
				usleep(10000);
		}
	}
	if (res->timed_out && proc->out_fd >= 0) {
		close(proc->out_fd);
		proc->out_fd = -1;
	}
	if (res->timed_out && proc->err_fd >= 0) {
		close(proc->err_fd);
		proc->err_fd = -1;
	}
	if (WIFEXITED(st)) {
		res->exit_code = WEXITSTATUS(st);
		res->term_signal = 0;
	} else {
		res->exit_code = -1;
		res->term_signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	}
	proc->pid = -1;
	(void)err;
	return true;
}

bool pgr_proc_run(const struct pgr_proc_spec *spec, int timeout_sec, struct pgr_proc_result *res, struct pgr_error *err)
{
	struct pgr_proc_spec s = *spec;
	struct pgr_proc p;
	if (s.out == PGR_IO_DEFAULT)
		s.out = PGR_IO_PIPE;
	if (s.err == PGR_IO_DEFAULT)
		s.err = PGR_IO_PIPE;
	sb_init(&res->out);
	sb_init(&res->err);
	res->exit_code = -1;
	res->term_signal = 0;
	res->timed_out = false;
	if (!pgr_proc_start(&s, &p, err))
		return false;
	return pgr_proc_finish(&p, timeout_sec, res, err);
}

bool pgr_proc_ok(const struct pgr_proc_result *res, const char *what, struct pgr_error *err)
{
	if (res->exit_code == 0 && !res->timed_out)
		return true;
	if (res->timed_out)
		pgr_error_set(err, PGR_ERR_TOOL, "%s timed out and was stopped", what);
	else if (res->exit_code < 0)
		pgr_error_set(err, PGR_ERR_TOOL, "%s was killed by signal %d", what, res->term_signal);
	else
		pgr_error_set(err, PGR_ERR_TOOL, "%s failed (exit code %d)", what, res->exit_code);
	pgr_error_detail(err, "%s", sb_str(&res->err));
	return false;
}

void pgr_proc_result_free(struct pgr_proc_result *res)
{
	sb_free(&res->out);
	sb_free(&res->err);
}
