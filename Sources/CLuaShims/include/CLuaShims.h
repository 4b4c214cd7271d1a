#ifndef CURATOR_LUA_SHIMS_H
#define CURATOR_LUA_SHIMS_H

#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>

/// A host function implemented in Swift. It never raises a Lua error itself:
/// it returns the number of results, or CURATOR_LUA_RAISE with the error value
/// on top of the stack, and the C trampoline raises it after the Swift frame
/// has returned (Swift frames must never be crossed by longjmp).
typedef int (*curator_host_fn)(lua_State *L);

/// What a host function returns to have its top-of-stack value raised.
#define CURATOR_LUA_RAISE (-1)

/// Pushes a C closure that calls `dispatch` through the trampoline. The
/// closure's upvalues are: 1 = the dispatcher, 2 = `id` (an integer the
/// dispatcher uses to find the Swift binding), then `nup` values popped from
/// the stack.
void curator_push_host_function(lua_State *L, curator_host_fn dispatch, lua_Integer id, int nup);

/// Reads the binding id of the running host closure (upvalue 2).
lua_Integer curator_host_function_id(lua_State *L);

/// A message handler for lua_pcall that appends a traceback (as lua.c does,
/// using __tostring for non-string error objects).
int curator_traceback_handler(lua_State *L);

/// lua_pcall with curator_traceback_handler inserted below the function.
int curator_pcall_traceback(lua_State *L, int nargs, int nresults);

/// Asks the state to stop at the next opportunity with "interrupted!". Safe to
/// call from a signal handler (it only sets a hook, as lua.c does).
void curator_request_interrupt(lua_State *L);

/// Whether an interrupt was requested since the last clear; long-running host
/// work polls this to stop early.
int curator_interrupt_requested(void);

/// Clears a pending interrupt request and removes the hook.
void curator_clear_interrupt(lua_State *L);

/// Installs a SIGINT handler that requests an interrupt of `L` (NULL restores
/// the default handler).
void curator_install_sigint(lua_State *L);

/// lua_upvalueindex is a macro Swift cannot import.
int curator_upvalueindex(int i);

/// lua_pop, lua_newtable, lua_tostring and friends are macros; these mirror
/// the ones the Swift side needs.
void curator_pop(lua_State *L, int n);
void curator_newtable(lua_State *L);
const char *curator_tolstring(lua_State *L, int idx, size_t *len);
int curator_isnoneornil(lua_State *L, int idx);
int curator_pcall(lua_State *L, int nargs, int nresults, int msgh);
int curator_registryindex(void);
void curator_remove(lua_State *L, int idx);
void curator_insert(lua_State *L, int idx);
void curator_replace(lua_State *L, int idx);
lua_Number curator_tonumber(lua_State *L, int idx, int *isnum);
lua_Integer curator_tointeger(lua_State *L, int idx, int *isnum);
void curator_call(lua_State *L, int nargs, int nresults);

#endif
