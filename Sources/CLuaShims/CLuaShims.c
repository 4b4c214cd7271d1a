#include "CLuaShims.h"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

// MARK: Memory

// Lua runs on one thread per state; a thread-local suffices for the flag.
//
// Whether the innermost frame that may receive a Lua error is Swift's. A
// failed allocation raises LUA_ERRMEM by longjmp, which must never cross a
// Swift frame: while a binding runs (and at the top level, where Swift pushes
// values before any protected call) the limit is not enforced, and the next
// allocation Lua code makes meets it. Protected calls made from Swift (below)
// and bindings (the trampolines) switch it.
static _Thread_local int in_swift = 1;

struct curator_memory {
    size_t used;
    size_t limit;
};

static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    struct curator_memory *memory = (struct curator_memory *)ud;
    size_t old = ptr != NULL ? osize : 0;  // without a block, osize is a type tag
    if (nsize == 0) {
        free(ptr);
        memory->used -= old;
        return NULL;
    }
    if (nsize > old && memory->limit != 0 && !in_swift && memory->used + (nsize - old) > memory->limit)
        return NULL;  // Lua collects garbage and retries once, then raises "not enough memory"
    void *block = realloc(ptr, nsize);
    if (block != NULL) memory->used = memory->used - old + nsize;
    return block;
}

void curator_install_allocator(lua_State *L) {
    void *ud = NULL;
    if (lua_getallocf(L, &ud) == limited_alloc) return;
    struct curator_memory *memory = malloc(sizeof *memory);
    if (memory == NULL) return;
    memory->used = (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB, 0);
    memory->limit = 0;
    lua_setallocf(L, limited_alloc, memory);
}

static struct curator_memory *memory_of(lua_State *L) {
    void *ud = NULL;
    return lua_getallocf(L, &ud) == limited_alloc ? (struct curator_memory *)ud : NULL;
}

void curator_set_memory_limit(lua_State *L, size_t bytes) {
    struct curator_memory *memory = memory_of(L);
    if (memory != NULL) memory->limit = bytes;
}

size_t curator_memory_limit(lua_State *L) {
    struct curator_memory *memory = memory_of(L);
    return memory != NULL ? memory->limit : 0;
}

size_t curator_memory_used(lua_State *L) {
    struct curator_memory *memory = memory_of(L);
    return memory != NULL ? memory->used : 0;
}

void curator_close_state(lua_State *L) {
    struct curator_memory *memory = memory_of(L);
    lua_close(L);  // frees through limited_alloc, so `memory` outlives it
    free(memory);
}

// MARK: Host functions

/// Runs the Swift dispatcher and, once its frame is gone, raises what it left.
static int finish_host_call(lua_State *L, int n) {
    if (n == CURATOR_LUA_RAISE_WHERE) {
        if (lua_type(L, -1) == LUA_TSTRING) {
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
        }
        return lua_error(L);
    }
    if (n == CURATOR_LUA_RAISE) return lua_error(L);
    return n;
}

/// Calls a Swift binding with the memory limit relaxed (see `in_swift`).
static int call_swift(curator_host_fn fn, lua_State *L, lua_Integer id) {
    int saved = in_swift;
    in_swift = 1;
    int n = fn(L, id);
    in_swift = saved;
    return n;
}

static int trampoline(lua_State *L) {
    curator_host_fn fn = (curator_host_fn)lua_touserdata(L, lua_upvalueindex(1));
    lua_Integer id = lua_tointeger(L, lua_upvalueindex(2));
    return finish_host_call(L, call_swift(fn, L, id));
}

void curator_push_host_function(lua_State *L, curator_host_fn dispatch, lua_Integer id, int nup) {
    lua_pushlightuserdata(L, (void *)dispatch);
    lua_pushinteger(L, id);
    if (nup > 0) {
        lua_rotate(L, -(nup + 2), 2);
    }
    lua_pushcclosure(L, trampoline, nup + 2);
}

lua_Integer curator_host_function_id_at(lua_State *L, int idx) {
    if (lua_tocfunction(L, idx) != trampoline) return 0;
    idx = lua_absindex(L, idx);
    if (lua_getupvalue(L, idx, 2) == NULL) return 0;
    lua_Integer id = lua_tointeger(L, -1);
    lua_pop(L, 1);
    return id;
}

static int keyed_trampoline(lua_State *L) {
    curator_host_fn fn = (curator_host_fn)lua_touserdata(L, lua_upvalueindex(1));
    if (lua_toboolean(L, lua_upvalueindex(5))) {
        lua_pushvalue(L, 2);
        if (lua_rawget(L, lua_upvalueindex(3)) != LUA_TNIL) return 1;
        lua_pop(L, 1);
    }
    lua_Integer id;
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(4)) == LUA_TNUMBER) {
        id = lua_tointeger(L, -1);
    } else {
        id = lua_tointeger(L, lua_upvalueindex(2));
    }
    lua_pop(L, 1);
    return finish_host_call(L, call_swift(fn, L, id));
}

void curator_push_keyed_function(lua_State *L, curator_host_fn dispatch, lua_Integer fallback, int has_direct) {
    // Stack: ... direct keyed  ->  upvalues: dispatch, fallback, direct, keyed, has_direct
    lua_pushlightuserdata(L, (void *)dispatch);
    lua_pushinteger(L, fallback);
    lua_rotate(L, -4, 2);
    lua_pushboolean(L, has_direct);
    lua_pushcclosure(L, keyed_trampoline, 5);
}

// MARK: Host objects

typedef void (*release_fn)(void *);

static int object_gc(lua_State *L) {
    void **slot = (void **)lua_touserdata(L, 1);
    if (slot == NULL || lua_rawlen(L, 1) < sizeof(void *)) return 0;
    void *object = *slot;
    *slot = NULL;
    if (object != NULL) {
        release_fn release = (release_fn)lua_touserdata(L, lua_upvalueindex(1));
        release(object);
    }
    return 0;
}

void curator_push_gc_function(lua_State *L, void (*release)(void *)) {
    lua_pushlightuserdata(L, (void *)release);
    lua_pushcclosure(L, object_gc, 1);
}

static const char host_marker = 0;

void curator_mark_host_metatable(lua_State *L) {
    lua_pushboolean(L, 1);
    lua_rawsetp(L, -2, &host_marker);
}

void curator_new_object(lua_State *L, void *object, const void *type_key) {
    void **slot = (void **)lua_newuserdatauv(L, sizeof(void *), 0);
    *slot = object;
    lua_rawgetp(L, LUA_REGISTRYINDEX, type_key);
    lua_setmetatable(L, -2);
}

void *curator_to_object(lua_State *L, int idx, const void *type_key) {
    void **slot = (void **)lua_touserdata(L, idx);
    if (slot == NULL || lua_type(L, idx) != LUA_TUSERDATA) return NULL;
    if (!lua_getmetatable(L, idx)) return NULL;
    lua_rawgetp(L, LUA_REGISTRYINDEX, type_key);
    int same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (!same || lua_rawlen(L, idx) < sizeof(void *)) return NULL;
    return *slot;
}

int curator_is_host_object(lua_State *L, int idx) {
    if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx)) return 0;
    int marked = lua_rawgetp(L, -1, &host_marker) == LUA_TBOOLEAN;
    lua_pop(L, 2);
    return marked;
}

int curator_cache_get(lua_State *L, const void *cache_key, lua_Integer scope, lua_Integer id) {
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, cache_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_pushnil(L);
        return LUA_TNIL;
    }
    if (lua_rawgeti(L, -1, scope) != LUA_TTABLE) {
        lua_pop(L, 2);
        lua_pushnil(L);
        return LUA_TNIL;
    }
    int type = lua_rawgeti(L, -1, id);
    lua_rotate(L, -3, 1);
    lua_pop(L, 2);
    return type;
}

void curator_cache_put(lua_State *L, const void *cache_key, lua_Integer scope, lua_Integer id) {
    // Stack: ... value
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, cache_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, cache_key);
    }
    if (lua_rawgeti(L, -1, scope) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);               // the weak-valued inner table
        lua_createtable(L, 0, 1);      // its metatable
        lua_pushliteral(L, "v");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, scope);
    }
    lua_pushvalue(L, -3);
    lua_rawseti(L, -2, id);
    lua_pop(L, 2);
}

void *curator_get_host(lua_State *L) {
    return *(void **)lua_getextraspace(L);
}

void curator_set_host(lua_State *L, void *host) {
    *(void **)lua_getextraspace(L) = host;
}

// MARK: Protected calls

int curator_traceback_handler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/// lua_pcall from Swift: the Lua code it runs meets the memory limit.
static int pcall_from_swift(lua_State *L, int nargs, int nresults, int msgh) {
    int saved = in_swift;
    in_swift = 0;
    int status = lua_pcall(L, nargs, nresults, msgh);
    in_swift = saved;
    return status;
}

int curator_pcall_traceback(lua_State *L, int nargs, int nresults) {
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, curator_traceback_handler);
    lua_insert(L, base);
    int status = pcall_from_swift(L, nargs, nresults, base);
    lua_remove(L, base);
    return status;
}

static int tostring_body(lua_State *L) {
    luaL_tolstring(L, 1, NULL);
    return 1;
}

int curator_pcall_tostring(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    lua_pushcfunction(L, tostring_body);
    lua_pushvalue(L, idx);
    int status = pcall_from_swift(L, 1, 1, 0);
    if (status == LUA_OK && lua_type(L, -1) != LUA_TSTRING) {
        lua_pop(L, 1);
        lua_pushliteral(L, "?");
    } else if (status != LUA_OK && lua_type(L, -1) != LUA_TSTRING) {
        lua_pop(L, 1);
        lua_pushliteral(L, "(error in __tostring)");
    }
    return status;
}

static int getfield_body(lua_State *L) {
    lua_gettable(L, 1);
    return 1;
}

int curator_pcall_getfield(lua_State *L, int idx, const char *key) {
    idx = lua_absindex(L, idx);
    lua_pushcfunction(L, getfield_body);
    lua_pushvalue(L, idx);
    lua_pushstring(L, key);
    return pcall_from_swift(L, 2, 1, 0);
}

int curator_load_chunk(lua_State *L, const char *buffer, size_t size, const char *name, const char *mode) {
    int saved = in_swift;
    in_swift = 0;  // the parser runs protected
    int status = luaL_loadbufferx(L, buffer, size, name, mode);
    in_swift = saved;
    if (status == LUA_ERRSYNTAX) {
        size_t len;
        const char *msg = lua_tolstring(L, -1, &len);
        static const char eof_mark[] = "<eof>";
        size_t mark = sizeof(eof_mark) - 1;
        if (msg != NULL && len >= mark && strcmp(msg + len - mark, eof_mark) == 0)
            return CURATOR_LUA_INCOMPLETE;
    }
    return status;
}

// MARK: Interrupts

// Why the running code must stop: 0 (it need not), or a CURATOR_INTERRUPT_* reason.
static atomic_int interrupt_flag = 0;
static lua_State *volatile sigint_state = NULL;
static volatile double deadline_seconds = 0;

// Hooks are per thread in Lua: one set on the main state while it waits in
// coroutine.resume never fires, so Ctrl-C could not stop a loop running in
// a coroutine. The host's resume and wrap (below) keep the chain of
// coroutines being resumed here, and an interrupt hooks every one of them.
// Lua runs on one OS thread in curator, so one chain suffices; resumes
// nested deeper than this (Lua itself stops at about 200) go untracked.
#define CURATOR_MAX_RESUMED 256
static lua_State *volatile resumed[CURATOR_MAX_RESUMED];
static volatile sig_atomic_t resumed_depth = 0;

const char *curator_interrupt_message(void) {
    static char timeout_message[96];
    if (atomic_load(&interrupt_flag) == CURATOR_INTERRUPT_TIMEOUT) {
        snprintf(timeout_message, sizeof timeout_message,
                 "timeout: still running after %g s (--timeout)", deadline_seconds);
        return timeout_message;
    }
    return "interrupted!";
}

// The hook stays set: it raises again at every instruction until the host
// clears the interrupt, so a pcall in the script that catches the error
// only gets as far as its next instruction. Count events only fire in Lua
// functions, so the host's C message handler (the traceback) still runs.
static void stop_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    if (atomic_load(&interrupt_flag) == 0) {
        // A coroutine made while the interrupt was pending inherited the
        // hook; resumed after the host cleared it, it runs undisturbed.
        lua_sethook(L, NULL, 0, 0);
        return;
    }
    luaL_error(L, "%s", curator_interrupt_message());
}

static void hook_everything(lua_State *L) {
    lua_sethook(L, stop_hook, LUA_MASKCOUNT, 1);
    int depth = resumed_depth;
    if (depth > CURATOR_MAX_RESUMED) depth = CURATOR_MAX_RESUMED;
    for (int i = 0; i < depth; i++) {
        lua_State *co = resumed[i];
        if (co != NULL) lua_sethook(co, stop_hook, LUA_MASKCOUNT, 1);
    }
}

/// Asks `L` to stop for `reason`; returns the reason already pending (0 if none).
static int request(lua_State *L, int reason) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&interrupt_flag, &expected, reason)) return expected;
    if (L != NULL) hook_everything(L);
    return 0;
}

void curator_request_interrupt(lua_State *L) {
    request(L, CURATOR_INTERRUPT_SIGINT);
}

int curator_interrupt_requested(void) {
    return atomic_load(&interrupt_flag);
}

void curator_clear_interrupt(lua_State *L) {
    atomic_store(&interrupt_flag, 0);
    if (L != NULL) lua_sethook(L, NULL, 0, 0);
}

// MARK: Coroutines that can be interrupted
//
// coroutine.resume and coroutine.wrap as lcorolib.c (Lua 5.4) has them, with
// the coroutine pushed on the chain `resumed` while it runs.

/// lua_resume with `co` on the chain of running coroutines.
static int tracked_resume(lua_State *co, lua_State *from, int narg, int *nres) {
    int depth = resumed_depth;
    if (depth < CURATOR_MAX_RESUMED) resumed[depth] = co;
    resumed_depth = depth + 1;
    int status = lua_resume(co, from, narg, nres);
    resumed_depth = depth;
    // A hook the interrupt set on a coroutine that finished or yielded
    // before reaching it must not fire when it is resumed later, once the
    // host has cleared the interrupt.
    if (lua_gethook(co) == stop_hook && atomic_load(&interrupt_flag) == 0) lua_sethook(co, NULL, 0, 0);
    return status;
}

static int aux_resume(lua_State *L, lua_State *co, int narg) {
    int nres;
    if (!lua_checkstack(co, narg)) {
        lua_pushliteral(L, "too many arguments to resume");
        return -1;
    }
    lua_xmove(L, co, narg);
    int status = tracked_resume(co, L, narg, &nres);
    if (status == LUA_OK || status == LUA_YIELD) {
        if (!lua_checkstack(L, nres + 1)) {
            lua_pop(co, nres);
            lua_pushliteral(L, "too many results to resume");
            return -1;
        }
        lua_xmove(co, L, nres);
        return nres;
    }
    lua_xmove(co, L, 1);  // the error message
    return -1;
}

static int co_resume(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTHREAD);  // the stock message: "thread expected, got ..."
    lua_State *co = lua_tothread(L, 1);
    int r = aux_resume(L, co, lua_gettop(L) - 1);
    if (r < 0) {
        lua_pushboolean(L, 0);
        lua_insert(L, -2);
        return 2;
    }
    lua_pushboolean(L, 1);
    lua_insert(L, -(r + 1));
    return r + 1;
}

static int co_wrapped(lua_State *L) {
    lua_State *co = lua_tothread(L, lua_upvalueindex(1));
    int r = aux_resume(L, co, lua_gettop(L));
    if (r < 0) {
        int status = lua_status(co);
        if (status != LUA_OK && status != LUA_YIELD) {  // an error in the coroutine
#if LUA_VERSION_RELEASE_NUM >= 50406
            status = lua_closethread(co, L);
#else
            status = lua_resetthread(co);
#endif
            lua_xmove(co, L, 1);
        }
        if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
        }
        return lua_error(L);
    }
    return r;
}

static int co_wrap(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    lua_pushcclosure(L, co_wrapped, 1);
    return 1;
}

void curator_install_coroutines(lua_State *L) {
    if (lua_getglobal(L, "coroutine") == LUA_TTABLE) {
        lua_pushcfunction(L, co_resume);
        lua_setfield(L, -2, "resume");
        lua_pushcfunction(L, co_wrap);
        lua_setfield(L, -2, "wrap");
    }
    lua_pop(L, 1);
}

// A second Ctrl-C while the first is still pending ends the process, as
// lua.c does: the code did not stop (a long C loop, host work that does not
// look), and the user asked twice.
static pthread_t sigint_thread;
static volatile int sigint_thread_known = 0;

static void on_sigint(int sig) {
    // Ctrl-C goes to the process, and the kernel hands it to any thread that
    // does not block it (GRDB's, libdispatch's, libvips' workers...). The
    // prompt clears its line only when its own select() is interrupted, so a
    // Ctrl-C landing elsewhere is passed on to the thread that runs Lua.
    if (sigint_thread_known && !pthread_equal(pthread_self(), sigint_thread)) {
        pthread_kill(sigint_thread, sig);
        return;
    }
    if (request(sigint_state, CURATOR_INTERRUPT_SIGINT) != 0) {
        signal(sig, SIG_DFL);
        raise(sig);  // delivered when this handler returns
    }
}

void curator_install_sigint(lua_State *L) {
    sigint_state = L;
    sigint_thread = pthread_self();
    sigint_thread_known = L != NULL;
    struct sigaction sa;
    sa.sa_flags = 0;
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = (L != NULL) ? on_sigint : SIG_DFL;
    sigaction(SIGINT, &sa, NULL);
}

// MARK: Deadlines
//
// A watchdog thread sleeps until the deadline, then signals the Lua thread
// (SIGALRM, with SA_RESTART), whose handler sets the hook as Ctrl-C does: a
// hook set from the Lua thread itself, never from another one. If the code
// still has not returned to the host after a grace period (a C loop, host
// work that does not poll), the watchdog ends the process.

#define CURATOR_DEADLINE_GRACE 5.0

static pthread_mutex_t deadline_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t deadline_changed = PTHREAD_COND_INITIALIZER;
static int watchdog_started = 0;
static struct timespec deadline_at;       // when armed: the time to interrupt
static int deadline_armed = 0;
static unsigned long deadline_generation = 0;
static pthread_t lua_thread;
static lua_State *volatile deadline_state = NULL;

static void on_sigalrm(int sig) {
    (void)sig;
    request(deadline_state, CURATOR_INTERRUPT_TIMEOUT);
}

static void add_seconds(struct timespec *t, double seconds) {
    double whole = (double)(long)seconds;
    t->tv_sec += (time_t)whole;
    t->tv_nsec += (long)((seconds - whole) * 1e9);
    if (t->tv_nsec >= 1000000000L) { t->tv_sec += 1; t->tv_nsec -= 1000000000L; }
}

static void *watchdog(void *unused) {
    (void)unused;
    pthread_mutex_lock(&deadline_lock);
    for (;;) {
        while (!deadline_armed) pthread_cond_wait(&deadline_changed, &deadline_lock);
        unsigned long generation = deadline_generation;
        struct timespec at = deadline_at;
        int status = 0;
        while (deadline_armed && generation == deadline_generation && status != ETIMEDOUT)
            status = pthread_cond_timedwait(&deadline_changed, &deadline_lock, &at);
        if (!deadline_armed || generation != deadline_generation) continue;
        pthread_kill(lua_thread, SIGALRM);
        add_seconds(&at, CURATOR_DEADLINE_GRACE);
        status = 0;
        while (deadline_armed && generation == deadline_generation && status != ETIMEDOUT)
            status = pthread_cond_timedwait(&deadline_changed, &deadline_lock, &at);
        if (deadline_armed && generation == deadline_generation) {
            char message[160];
            int n = snprintf(message, sizeof message,
                             "curator: timeout: still running %g s after --timeout %g s; ending the process\n",
                             CURATOR_DEADLINE_GRACE, deadline_seconds);
            if (n > 0) write(2, message, (size_t)n < sizeof message ? (size_t)n : sizeof message - 1);
            _exit(1);
        }
    }
    return NULL;
}

int curator_arm_deadline(lua_State *L, double seconds) {
    pthread_mutex_lock(&deadline_lock);
    if (!watchdog_started) {
        struct sigaction sa;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sa.sa_handler = on_sigalrm;
        sigaction(SIGALRM, &sa, NULL);
        pthread_t thread;
        if (pthread_create(&thread, NULL, watchdog, NULL) != 0) {
            pthread_mutex_unlock(&deadline_lock);
            return -1;
        }
        pthread_detach(thread);
        watchdog_started = 1;
    }
    lua_thread = pthread_self();
    deadline_state = L;
    deadline_seconds = seconds;
    clock_gettime(CLOCK_REALTIME, &deadline_at);  // pthread_cond_timedwait's clock
    add_seconds(&deadline_at, seconds);
    deadline_armed = 1;
    deadline_generation++;
    pthread_cond_signal(&deadline_changed);
    pthread_mutex_unlock(&deadline_lock);
    return 0;
}

void curator_disarm_deadline(void) {
    pthread_mutex_lock(&deadline_lock);
    deadline_armed = 0;
    deadline_generation++;
    pthread_cond_signal(&deadline_changed);
    pthread_mutex_unlock(&deadline_lock);
}

// MARK: Macro mirrors

int curator_upvalueindex(int i) { return lua_upvalueindex(i); }
void curator_pop(lua_State *L, int n) { lua_pop(L, n); }
void curator_newtable(lua_State *L) { lua_newtable(L); }
const char *curator_tolstring(lua_State *L, int idx, size_t *len) { return lua_tolstring(L, idx, len); }
int curator_isnoneornil(lua_State *L, int idx) { return lua_isnoneornil(L, idx); }
int curator_pcall(lua_State *L, int nargs, int nresults, int msgh) { return pcall_from_swift(L, nargs, nresults, msgh); }
int curator_registryindex(void) { return LUA_REGISTRYINDEX; }
void curator_remove(lua_State *L, int idx) { lua_remove(L, idx); }
void curator_insert(lua_State *L, int idx) { lua_insert(L, idx); }
void curator_replace(lua_State *L, int idx) { lua_replace(L, idx); }
lua_Number curator_tonumber(lua_State *L, int idx, int *isnum) { return lua_tonumberx(L, idx, isnum); }
lua_Integer curator_tointeger(lua_State *L, int idx, int *isnum) { return lua_tointegerx(L, idx, isnum); }
void curator_pushglobaltable(lua_State *L) { lua_pushglobaltable(L); }
void *curator_newuserdata(lua_State *L, size_t size) { return lua_newuserdatauv(L, size, 0); }
int curator_isinteger(lua_State *L, int idx) { return lua_isinteger(L, idx); }
int curator_gc(lua_State *L, int what, int arg) { return lua_gc(L, what, arg); }
