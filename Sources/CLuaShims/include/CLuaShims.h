#ifndef CURATOR_LUA_SHIMS_H
#define CURATOR_LUA_SHIMS_H

#include <lua.h>
#include <lualib.h>
#include <lauxlib.h>

/// A host function implemented in Swift. It never raises a Lua error itself:
/// it returns the number of results, or CURATOR_LUA_RAISE /
/// CURATOR_LUA_RAISE_WHERE with the error value on top of the stack, and the C
/// trampoline raises it after the Swift frame has returned (Swift frames must
/// never be crossed by longjmp). `id` names the Swift binding to run.
typedef int (*curator_host_fn)(lua_State *L, lua_Integer id);

/// What a host function returns to have its top-of-stack value raised as is.
#define CURATOR_LUA_RAISE (-1)
/// What a host function returns to have its top-of-stack string raised with
/// the calling Lua code's position ("file.lua:12: ") in front, as luaL_error does.
#define CURATOR_LUA_RAISE_WHERE (-2)

/// Pushes a C closure that calls `dispatch(L, id)` through the trampoline. The
/// closure's upvalues are: 1 = the dispatcher, 2 = `id`, then `nup` values
/// popped from the stack.
void curator_push_host_function(lua_State *L, curator_host_fn dispatch, lua_Integer id, int nup);

/// Reads the binding id of a host closure at `idx` (0 when it is not one).
lua_Integer curator_host_function_id_at(lua_State *L, int idx);

/// Pushes a C closure for a host type's `__index` (or `__newindex`). It pops
/// two tables from the stack: `direct` (below) and `keyed` (top). Given
/// (self, key[, value]) it returns `direct[key]` when that is not nil (methods;
/// pass `has_direct` = 0 to skip this for `__newindex`), else calls
/// `dispatch(L, keyed[key])` when that is an integer (property getters or
/// setters), else `dispatch(L, fallback)` (integer indexing, unknown fields).
/// All lookups are raw: they run no metamethods.
void curator_push_keyed_function(lua_State *L, curator_host_fn dispatch, lua_Integer fallback, int has_direct);

/// Pushes the `__gc` function of host objects: it clears the object pointer
/// stored in the userdata and hands it to `release` (which drops the Swift
/// reference). `release` must not call Lua.
void curator_push_gc_function(lua_State *L, void (*release)(void *));

/// Creates a full userdata holding `object` (an opaque, retained pointer) with
/// the metatable stored at registry[type_key], and leaves it on the stack.
void curator_new_object(lua_State *L, void *object, const void *type_key);

/// The object pointer of the host userdata at `idx` when its metatable is the
/// one stored at registry[type_key]; NULL otherwise (wrong type, or already
/// finalized). Raises nothing.
void *curator_to_object(lua_State *L, int idx, const void *type_key);

/// Whether the value at `idx` is a host object of any type (a userdata whose
/// metatable carries the host marker).
int curator_is_host_object(lua_State *L, int idx);

/// Marks the metatable on top of the stack as a host type's metatable.
void curator_mark_host_metatable(lua_State *L);

/// Looks `(scope, id)` up in the two-level identity cache stored at
/// registry[cache_key]; pushes the cached value or nil and returns its type.
int curator_cache_get(lua_State *L, const void *cache_key, lua_Integer scope, lua_Integer id);

/// Stores the value on top of the stack (without popping it) in the identity
/// cache at registry[cache_key] under `(scope, id)`. Inner tables are
/// weak-valued, so a cached object lives only while Lua references it.
void curator_cache_put(lua_State *L, const void *cache_key, lua_Integer scope, lua_Integer id);

/// The Swift host stored in the state's extra space (shared by its coroutines).
void *curator_get_host(lua_State *L);
/// Stores the Swift host pointer in the state's extra space.
void curator_set_host(lua_State *L, void *host);

/// A message handler for lua_pcall that appends a traceback (as lua.c does,
/// using __tostring for non-string error objects).
int curator_traceback_handler(lua_State *L);

/// lua_pcall with curator_traceback_handler inserted below the function.
int curator_pcall_traceback(lua_State *L, int nargs, int nresults);

/// Calls the `__tostring`-aware `tostring` of the value at `idx` in protected
/// mode; pushes the string (or an error message) and returns the status.
int curator_pcall_tostring(lua_State *L, int idx);

/// Reads `value[key]` for the value at `idx` in protected mode, metamethods
/// included; pushes the value (or the error) and returns the status.
int curator_pcall_getfield(lua_State *L, int idx, const char *key);

/// Why an interrupt was requested: Ctrl-C, or the --timeout deadline.
#define CURATOR_INTERRUPT_SIGINT 1
#define CURATOR_INTERRUPT_TIMEOUT 2

/// Asks the state to stop with "interrupted!" (unless an interrupt is
/// already pending). Safe to call from a signal handler (it only sets a
/// hook, as lua.c does). The hook raises at every instruction until
/// `curator_clear_interrupt`, so `pcall` in the script cannot swallow it.
void curator_request_interrupt(lua_State *L);

/// The reason an interrupt is pending (a CURATOR_INTERRUPT_* value), or 0;
/// long-running host work polls this to stop early.
int curator_interrupt_requested(void);

/// What the pending interrupt says: "interrupted!", or the timeout's message.
const char *curator_interrupt_message(void);

/// Clears a pending interrupt request and removes the hook (the host calls
/// it once the interrupted code has returned to it).
void curator_clear_interrupt(lua_State *L);

/// Interrupts `L` (with the timeout's message) `seconds` from now, unless
/// `curator_disarm_deadline` comes first; when the code has still not
/// returned 5 s after that, the process ends with status 1. Call from the
/// thread that runs Lua. Returns -1 when the watchdog thread cannot start.
int curator_arm_deadline(lua_State *L, double seconds);

/// Cancels the deadline armed last.
void curator_disarm_deadline(void);

/// Replaces the state's allocator with one that counts the bytes Lua holds
/// and refuses to go over the limit (`curator_set_memory_limit`; none at
/// first): Lua then collects garbage, retries, and raises "not enough memory".
/// The limit is not enforced while a host binding (Swift) runs, since a
/// memory error must never unwind through a Swift frame; the next allocation
/// made by Lua code meets it.
void curator_install_allocator(lua_State *L);
/// Sets the limit in bytes (0: none).
void curator_set_memory_limit(lua_State *L, size_t bytes);
/// The limit in bytes (0: none).
size_t curator_memory_limit(lua_State *L);
/// The bytes Lua holds now.
size_t curator_memory_used(lua_State *L);
/// lua_close, then frees the allocator's counters.
void curator_close_state(lua_State *L);

/// Replaces `coroutine.resume` and `coroutine.wrap` with versions that
/// behave the same and also let an interrupt reach the coroutines being
/// resumed (a hook on the main state alone never fires while it waits in
/// resume), so Ctrl-C stops a loop running inside a coroutine.
void curator_install_coroutines(lua_State *L);

/// Replaces string.find, match, gmatch and gsub with versions that behave
/// the same and check for an interrupt (Ctrl-C, --timeout) while they
/// backtrack, which the standard library's C matcher never does.
void curator_install_patterns(lua_State *L);

/// Installs a SIGINT handler that requests an interrupt of `L` (NULL restores
/// the default handler).
void curator_install_sigint(lua_State *L);

/// Like luaL_loadbufferx, but an incomplete chunk (one whose syntax error is
/// at end of input) returns CURATOR_LUA_INCOMPLETE instead of LUA_ERRSYNTAX.
#define CURATOR_LUA_INCOMPLETE 100
int curator_load_chunk(lua_State *L, const char *buffer, size_t size, const char *name, const char *mode);

/// Reads one line with readline's callback interface so that Ctrl-C can clear
/// the line without killing the process. Returns a malloc'ed line (without
/// newline), or NULL at end of input (Ctrl-D). When Ctrl-C is pressed it
/// returns NULL and sets *interrupted to 1 when the line was empty, 2 when
/// something was typed on it (the REPL stops review servers on the first only).
char *curator_readline(const char *prompt, int *interrupted);

/// Readline setup: word-break characters suited to Lua (so `a.b:c` is one
/// word), no file-name completion, and the completion callback: readline calls
/// `candidates(text)`, which calls curator_completion_add for each match.
void curator_readline_setup(void (*candidates)(const char *text));

/// Adds one completion candidate (copied) while `candidates` runs.
void curator_completion_add(const char *candidate);

/// Whether readline should append nothing (not even a space) after a
/// completed word; set while `candidates` runs.
void curator_completion_suppress_append(int suppress);

/// Loads, appends to and trims the readline history file.
int curator_history_load(const char *path);
void curator_history_add(const char *line, const char *path, int max_entries);

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
void curator_pushglobaltable(lua_State *L);
void *curator_newuserdata(lua_State *L, size_t size);
int curator_isinteger(lua_State *L, int idx);
/// lua_gc is variadic, which Swift cannot call.
int curator_gc(lua_State *L, int what, int arg);

#endif
