#include "CLuaShims.h"
#include <signal.h>
#include <stdatomic.h>

static int trampoline(lua_State *L) {
    curator_host_fn fn = (curator_host_fn)lua_touserdata(L, lua_upvalueindex(1));
    int n = fn(L);
    if (n == CURATOR_LUA_RAISE) return lua_error(L);
    return n;
}

void curator_push_host_function(lua_State *L, curator_host_fn dispatch, lua_Integer id, int nup) {
    lua_pushlightuserdata(L, (void *)dispatch);
    lua_pushinteger(L, id);
    if (nup > 0) {
        lua_rotate(L, -(nup + 2), 2);
    }
    lua_pushcclosure(L, trampoline, nup + 2);
}

lua_Integer curator_host_function_id(lua_State *L) {
    return lua_tointeger(L, lua_upvalueindex(2));
}

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

static atomic_int interrupt_flag = 0;
static lua_State *volatile sigint_state = NULL;

static void stop_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

void curator_request_interrupt(lua_State *L) {
    atomic_store(&interrupt_flag, 1);
    if (L != NULL) {
        lua_sethook(L, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
    }
}

int curator_interrupt_requested(void) {
    return atomic_load(&interrupt_flag);
}

void curator_clear_interrupt(lua_State *L) {
    atomic_store(&interrupt_flag, 0);
    if (L != NULL) lua_sethook(L, NULL, 0, 0);
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
void curator_call(lua_State *L, int nargs, int nresults) { lua_call(L, nargs, nresults); }
