#include "CLuaShims.h"
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

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

static int trampoline(lua_State *L) {
    curator_host_fn fn = (curator_host_fn)lua_touserdata(L, lua_upvalueindex(1));
    lua_Integer id = lua_tointeger(L, lua_upvalueindex(2));
    return finish_host_call(L, fn(L, id));
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
    return finish_host_call(L, fn(L, id));
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

int curator_pcall_traceback(lua_State *L, int nargs, int nresults) {
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, curator_traceback_handler);
    lua_insert(L, base);
    int status = lua_pcall(L, nargs, nresults, base);
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
    int status = lua_pcall(L, 1, 1, 0);
    if (status == LUA_OK && lua_type(L, -1) != LUA_TSTRING) {
        lua_pop(L, 1);
        lua_pushliteral(L, "?");
    } else if (status != LUA_OK && lua_type(L, -1) != LUA_TSTRING) {
        lua_pop(L, 1);
        lua_pushliteral(L, "(error in __tostring)");
    }
    return status;
}

int curator_load_chunk(lua_State *L, const char *buffer, size_t size, const char *name, const char *mode) {
    int status = luaL_loadbufferx(L, buffer, size, name, mode);
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

static atomic_int interrupt_flag = 0;
static lua_State *volatile sigint_state = NULL;

// Hooks are per thread in Lua: one set on the main state while it waits in
// coroutine.resume never fires, so Ctrl-C could not stop a loop running in
// a coroutine. The host's resume and wrap (below) keep the chain of
// coroutines being resumed here, and an interrupt hooks every one of them.
// Lua runs on one OS thread in curator, so one chain suffices; resumes
// nested deeper than this (Lua itself stops at about 200) go untracked.
#define CURATOR_MAX_RESUMED 256
static lua_State *volatile resumed[CURATOR_MAX_RESUMED];
static volatile sig_atomic_t resumed_depth = 0;

static void stop_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

void curator_request_interrupt(lua_State *L) {
    atomic_store(&interrupt_flag, 1);
    if (L != NULL) {
        lua_sethook(L, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
        int depth = resumed_depth;
        if (depth > CURATOR_MAX_RESUMED) depth = CURATOR_MAX_RESUMED;
        for (int i = 0; i < depth; i++) {
            lua_State *co = resumed[i];
            if (co != NULL) lua_sethook(co, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
        }
    }
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
    // before reaching it must not fire when it is resumed later.
    if (lua_gethook(co) == stop_hook) lua_sethook(co, NULL, 0, 0);
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

static void on_sigint(int sig) {
    (void)sig;
    curator_request_interrupt(sigint_state);
}

void curator_install_sigint(lua_State *L) {
    sigint_state = L;
    struct sigaction sa;
    sa.sa_flags = 0;
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = (L != NULL) ? on_sigint : SIG_DFL;
    sigaction(SIGINT, &sa, NULL);
}

// MARK: Macro mirrors

int curator_upvalueindex(int i) { return lua_upvalueindex(i); }
void curator_pop(lua_State *L, int n) { lua_pop(L, n); }
void curator_newtable(lua_State *L) { lua_newtable(L); }
const char *curator_tolstring(lua_State *L, int idx, size_t *len) { return lua_tolstring(L, idx, len); }
int curator_isnoneornil(lua_State *L, int idx) { return lua_isnoneornil(L, idx); }
int curator_pcall(lua_State *L, int nargs, int nresults, int msgh) { return lua_pcall(L, nargs, nresults, msgh); }
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
