// Readline for the REPL. Its callback interface lets Ctrl-C at the prompt
// clear the line (select() returns EINTR) instead of killing the process, and
// its configuration lives in C globals Swift 6 cannot touch safely.
#include "CLuaShims.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/select.h>
#include <signal.h>
#include <pthread.h>
#include <unistd.h>
#include <readline/readline.h>
#include <readline/history.h>

static char *pending_line = NULL;
static int line_done = 0;

static void on_line(char *line) {
    pending_line = line;
    line_done = 1;
    rl_callback_handler_remove();
}

char *curator_readline(const char *prompt, int *interrupted) {
    *interrupted = 0;
    pending_line = NULL;
    line_done = 0;
    FILE *in = rl_instream ? rl_instream : stdin;
    int fd = fileno(in);
    // SIGINT stays blocked on this thread except inside pselect(): a Ctrl-C
    // that arrives while readline is echoing a key is then held until the
    // wait, which it interrupts, instead of being spent while no wait is
    // under way and letting the next keys join the line it should clear.
    sigset_t sigint_only, outside;
    sigemptyset(&sigint_only);
    sigaddset(&sigint_only, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigint_only, &outside);
    sigset_t during_wait = outside;
    sigdelset(&during_wait, SIGINT);
    char *result = NULL;
    rl_callback_handler_install(prompt, on_line);
    while (!line_done) {
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(fd, &fds);
        int ready = pselect(fd + 1, &fds, NULL, NULL, NULL, &during_wait);
        if (ready < 0) {
            if (errno == EINTR) {
                if (curator_interrupt_requested()) {
                    int typed = rl_end > 0;
                    rl_free_line_state();
                    rl_callback_sigcleanup();
                    rl_callback_handler_remove();
                    fputs("\n", rl_outstream ? rl_outstream : stdout);
                    fflush(rl_outstream ? rl_outstream : stdout);
                    *interrupted = typed ? 2 : 1;
                    goto done;
                }
                continue;
            }
            rl_callback_handler_remove();
            goto done;
        }
        rl_callback_read_char();
    }
    result = pending_line;
done:
    pthread_sigmask(SIG_SETMASK, &outside, NULL);
    return result;
}

// MARK: Completion

static char **candidates = NULL;
static size_t candidate_count = 0;
static size_t candidate_capacity = 0;
static void (*candidates_fn)(const char *) = NULL;

void curator_completion_add(const char *candidate) {
    if (candidate_count + 1 >= candidate_capacity) {
        size_t capacity = candidate_capacity ? candidate_capacity * 2 : 32;
        char **grown = realloc(candidates, capacity * sizeof(char *));
        if (grown == NULL) return;
        candidates = grown;
        candidate_capacity = capacity;
    }
    char *copy = strdup(candidate);
    if (copy != NULL) candidates[candidate_count++] = copy;
}

void curator_completion_suppress_append(int suppress) {
    rl_completion_suppress_append = suppress;
}

static void clear_candidates(void) {
    for (size_t i = 0; i < candidate_count; i++) free(candidates[i]);
    candidate_count = 0;
}

static char *next_candidate(const char *text, int state) {
    static size_t next = 0;
    (void)text;
    if (state == 0) next = 0;
    if (next < candidate_count) {
        // Readline frees what it is given, so hand over ownership.
        char *match = candidates[next];
        candidates[next] = NULL;
        next++;
        return match;
    }
    return NULL;
}

static char **attempt_completion(const char *text, int start, int end) {
    (void)start;
    (void)end;
    rl_attempted_completion_over = 1; // never fall back to file names
    clear_candidates();
    if (candidates_fn != NULL) candidates_fn(text);
    char **matches = rl_completion_matches(text, next_candidate);
    for (size_t i = 0; i < candidate_count; i++) free(candidates[i]);
    candidate_count = 0;
    return matches;
}

void curator_readline_setup(void (*fn)(const char *text)) {
    candidates_fn = fn;
    rl_readline_name = "curator";
    rl_catch_signals = 0;
    // '.', ':', '[' and ']' are not breaks, so "a.exclusions:ad" and
    // "a[2].ca" are completed as one word (the completer handles an open '[').
    static char breaks[] = " \t\n\"\\'`@$><=;|&{}(),+-*/%^~#";
    rl_basic_word_break_characters = breaks;
    rl_completer_word_break_characters = breaks;
    rl_attempted_completion_function = attempt_completion;
}

// MARK: History

int curator_history_load(const char *path) {
    using_history();
    int status = read_history(path);
    history_truncate_file(path, 1000);
    return status;
}

void curator_history_add(const char *line, const char *path, int max_entries) {
    add_history(line);
    stifle_history(max_entries);
    if (path == NULL) return;
    if (access(path, F_OK) != 0) {
        write_history(path);
    } else {
        append_history(1, path);
    }
}
