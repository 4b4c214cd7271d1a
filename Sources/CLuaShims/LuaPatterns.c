// Lua's string patterns (string.find, match, gmatch, gsub) as the Lua 5.4
// manual (§6.4.1) defines them, written so that a running match can be
// interrupted. The standard library's matcher backtracks in C, where no hook
// fires: a pattern such as ("a*"):rep(30) .. "b" against 30 a's runs for
// hours, and neither Ctrl-C nor --timeout could stop it. This one behaves the
// same (results, errors, limits: 32 captures, 200 levels of recursion) and
// checks the host's interrupt every few thousand steps, raising what the
// interrupt says like the hook does.
#include "CLuaShims.h"
#include <ctype.h>
#include <string.h>

enum {
    MAX_CAPTURES = 32,     // LUA_MAXCAPTURES
    MAX_DEPTH = 200,       // how deep match() may recurse ("pattern too complex")
    CHECK_EVERY = 1024,    // steps between looks at the interrupt flag
};
#define ESCAPE '%'
#define CAPTURE_OPEN ((ptrdiff_t)-1)
#define CAPTURE_POSITION ((ptrdiff_t)-2)

typedef struct {
    lua_State *L;
    const char *subject;
    const char *subject_end;
    const char *pattern_end;
    int depth_left;
    unsigned steps;
    int level;  // captures opened so far
    struct {
        const char *start;
        ptrdiff_t length;  // or CAPTURE_OPEN, CAPTURE_POSITION
    } capture[MAX_CAPTURES];
} Matcher;

static void prepare(Matcher *m, lua_State *L, const char *s, size_t ls, const char *p, size_t lp) {
    m->L = L;
    m->subject = s;
    m->subject_end = s + ls;
    m->pattern_end = p + lp;
    m->steps = 0;
}

static void restart(Matcher *m) {
    m->level = 0;
    m->depth_left = MAX_DEPTH;
}

static void count_step(Matcher *m) {
    if (++m->steps < CHECK_EVERY) return;
    m->steps = 0;
    if (curator_interrupt_requested()) luaL_error(m->L, "%s", curator_interrupt_message());
}

// MARK: Single items

/// Whether character `c` is in class `%cl` (a letter class, or `cl` itself).
static int in_class(int c, int cl) {
    int yes;
    switch (tolower(cl)) {
    case 'a': yes = isalpha(c); break;
    case 'c': yes = iscntrl(c); break;
    case 'd': yes = isdigit(c); break;
    case 'g': yes = isgraph(c); break;
    case 'l': yes = islower(c); break;
    case 'p': yes = ispunct(c); break;
    case 's': yes = isspace(c); break;
    case 'u': yes = isupper(c); break;
    case 'w': yes = isalnum(c); break;
    case 'x': yes = isxdigit(c); break;
    case 'z': yes = c == 0; break;  // deprecated since 5.2, still honoured by 5.4
    default: return cl == c;
    }
    if (isupper(cl)) yes = !yes;
    return yes != 0;
}

/// Whether `c` is in the set `[...]` from `open` (the '[') to `close` (its ']').
static int in_set(int c, const char *open, const char *close) {
    const char *p = open + 1;
    int found = 1;
    if (*p == '^') {
        found = 0;
        p++;
    }
    for (; p < close; p++) {
        if (*p == ESCAPE) {
            p++;
            if (in_class(c, (unsigned char)*p)) return found;
        } else if (p[1] == '-' && p + 2 < close) {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2]) return found;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return found;
        }
    }
    return !found;
}

/// Where the single item starting at `p` ends (a char, `.`, `%x` or a set).
static const char *item_end(Matcher *m, const char *p) {
    char first = *p++;
    if (first == ESCAPE) {
        if (p >= m->pattern_end) luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (first == '[') {
        if (*p == '^') p++;
        do {  // the first character is part of the set even when it is ']'
            if (p >= m->pattern_end) luaL_error(m->L, "malformed pattern (missing ']')");
            char c = *p++;
            if (c == ESCAPE && p < m->pattern_end) p++;
        } while (*p != ']');
        return p + 1;
    }
    return p;
}

/// Whether the character at `s` matches the item `p`..`end`.
static int item_matches(Matcher *m, const char *s, const char *p, const char *end) {
    if (s >= m->subject_end) return 0;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.': return 1;
    case ESCAPE: return in_class(c, (unsigned char)p[1]);
    case '[': return in_set(c, p, end - 1);
    default: return (unsigned char)*p == c;
    }
}

// MARK: Matching

static const char *match(Matcher *m, const char *s, const char *p);

static const char *match_balance(Matcher *m, const char *s, const char *p) {
    if (p >= m->pattern_end - 1) luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= m->subject_end || *s != p[0]) return NULL;
    char open = p[0], close = p[1];
    int depth = 1;
    while (++s < m->subject_end) {
        if (*s == close) {
            if (--depth == 0) return s + 1;
        } else if (*s == open) {
            depth++;
        }
    }
    return NULL;
}

static const char *longest_first(Matcher *m, const char *s, const char *p, const char *end) {
    ptrdiff_t n = 0;
    while (item_matches(m, s + n, p, end)) n++;
    for (; n >= 0; n--) {
        const char *rest = match(m, s + n, end + 1);
        if (rest != NULL) return rest;
    }
    return NULL;
}

static const char *shortest_first(Matcher *m, const char *s, const char *p, const char *end) {
    for (;;) {
        const char *rest = match(m, s, end + 1);
        if (rest != NULL) return rest;
        if (!item_matches(m, s, p, end)) return NULL;
        s++;
    }
}

static const char *open_capture(Matcher *m, const char *s, const char *p, ptrdiff_t kind) {
    if (m->level >= MAX_CAPTURES) luaL_error(m->L, "too many captures");
    m->capture[m->level].start = s;
    m->capture[m->level].length = kind;
    m->level++;
    const char *result = match(m, s, p);
    if (result == NULL) m->level--;
    return result;
}

static const char *close_capture(Matcher *m, const char *s, const char *p) {
    int open = m->level - 1;
    while (open >= 0 && m->capture[open].length != CAPTURE_OPEN) open--;
    if (open < 0) luaL_error(m->L, "invalid pattern capture");
    m->capture[open].length = s - m->capture[open].start;
    const char *result = match(m, s, p);
    if (result == NULL) m->capture[open].length = CAPTURE_OPEN;
    return result;
}

static const char *match_back_reference(Matcher *m, const char *s, int digit) {
    int i = digit - '1';
    if (i < 0 || i >= m->level || m->capture[i].length == CAPTURE_OPEN)
        luaL_error(m->L, "invalid capture index %%%d", i + 1);
    ptrdiff_t length = m->capture[i].length;
    if (length < 0) return NULL;  // a position capture matches no text
    if (m->subject_end - s >= length && memcmp(m->capture[i].start, s, (size_t)length) == 0) return s + length;
    return NULL;
}

/// Matches the pattern from `p` against the subject from `s`; returns where
/// the match ends, or NULL.
static const char *match(Matcher *m, const char *s, const char *p) {
    if (m->depth_left-- == 0) luaL_error(m->L, "pattern too complex");
    count_step(m);
    for (;;) {
        if (p == m->pattern_end) break;
        switch (*p) {
        case '(':
            s = p[1] == ')' ? open_capture(m, s, p + 2, CAPTURE_POSITION) : open_capture(m, s, p + 1, CAPTURE_OPEN);
            goto done;
        case ')':
            s = close_capture(m, s, p + 1);
            goto done;
        case '$':
            if (p + 1 != m->pattern_end) break;
            if (s != m->subject_end) s = NULL;
            goto done;
        case ESCAPE:
            switch (p[1]) {
            case 'b':
                s = match_balance(m, s, p + 2);
                if (s == NULL) goto done;
                p += 4;
                continue;
            case 'f': {
                p += 2;
                if (*p != '[') luaL_error(m->L, "missing '[' after '%%f' in pattern");
                const char *end = item_end(m, p);
                int before = s == m->subject ? 0 : (unsigned char)s[-1];
                int here = (unsigned char)*s;  // the string's terminating NUL at its end
                if (!in_set(before, p, end - 1) && in_set(here, p, end - 1)) {
                    p = end;
                    continue;
                }
                s = NULL;
                goto done;
            }
            case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
                s = match_back_reference(m, s, (unsigned char)p[1]);
                if (s == NULL) goto done;
                p += 2;
                continue;
            default:
                break;
            }
            break;
        default:
            break;
        }
        // A single item, perhaps followed by a repetition.
        const char *end = item_end(m, p);
        char suffix = end < m->pattern_end ? *end : '\0';
        if (!item_matches(m, s, p, end)) {
            if (suffix == '*' || suffix == '?' || suffix == '-') {
                p = end + 1;  // zero repetitions do
                continue;
            }
            s = NULL;
            goto done;
        }
        if (suffix == '?') {
            const char *rest = match(m, s + 1, end + 1);
            if (rest != NULL) {
                s = rest;
                goto done;
            }
            p = end + 1;
            continue;
        }
        if (suffix == '+') { s = longest_first(m, s + 1, p, end); goto done; }
        if (suffix == '*') { s = longest_first(m, s, p, end); goto done; }
        if (suffix == '-') { s = shortest_first(m, s, p, end); goto done; }
        s++;
        p = end;
    }
done:
    m->depth_left++;
    return s;
}

// MARK: Captures

/// Capture `i` (0-based) of the match `s`..`e`: pushes a position capture
/// and returns CAPTURE_POSITION, else sets `*text` and returns its length.
/// Without captures, "capture" 0 is the whole match.
static ptrdiff_t capture_text(Matcher *m, int i, const char *s, const char *e, const char **text) {
    if (i >= m->level) {
        if (i != 0) luaL_error(m->L, "invalid capture index %%%d", i + 1);
        *text = s;
        return e - s;
    }
    ptrdiff_t length = m->capture[i].length;
    *text = m->capture[i].start;
    if (length == CAPTURE_OPEN) luaL_error(m->L, "unfinished capture");
    if (length == CAPTURE_POSITION) lua_pushinteger(m->L, (m->capture[i].start - m->subject) + 1);
    return length;
}

static void push_capture(Matcher *m, int i, const char *s, const char *e) {
    const char *text;
    ptrdiff_t length = capture_text(m, i, s, e, &text);
    if (length != CAPTURE_POSITION) lua_pushlstring(m->L, text, (size_t)length);
}

/// Pushes the captures of the match `s`..`e` (the whole match when the
/// pattern has none and `s` is given); returns how many.
static int push_captures(Matcher *m, const char *s, const char *e) {
    int n = (m->level == 0 && s != NULL) ? 1 : m->level;
    luaL_checkstack(m->L, n, "too many captures");
    for (int i = 0; i < n; i++) push_capture(m, i, s, e);
    return n;
}

// MARK: The library functions

/// A 1-based, possibly negative start position made 1-based and at least 1.
static size_t start_position(lua_Integer position, size_t length) {
    if (position > 0) return (size_t)position;
    if (position == 0) return 1;
    if (position < -(lua_Integer)length) return 1;
    return length + (size_t)position + 1;
}

static int has_specials(const char *p, size_t length) {
    for (size_t i = 0; i < length; i++) {
        if (strchr("^$*+?.([%-", p[i]) != NULL && p[i] != '\0') return 1;
    }
    return 0;
}

static const char *find_plain(const char *s, size_t ls, const char *p, size_t lp) {
    if (lp == 0) return s;
    if (lp > ls) return NULL;
    const char *last = s + (ls - lp);
    for (const char *at = s; at <= last; at++) {
        at = memchr(at, p[0], (size_t)(last - at) + 1);
        if (at == NULL) return NULL;
        if (memcmp(at + 1, p + 1, lp - 1) == 0) return at;
    }
    return NULL;
}

static int find_or_match(lua_State *L, int find) {
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_position(luaL_optinteger(L, 3, 1), ls) - 1;
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
        const char *at = find_plain(s + init, ls - init, p, lp);
        if (at != NULL) {
            lua_pushinteger(L, (at - s) + 1);
            lua_pushinteger(L, (lua_Integer)((at - s) + lp));
            return 2;
        }
    } else {
        Matcher m;
        int anchored = *p == '^';
        if (anchored) {
            p++;
            lp--;
        }
        prepare(&m, L, s, ls, p, lp);
        const char *from = s + init;
        do {
            restart(&m);
            const char *e = match(&m, from, p);
            if (e != NULL) {
                if (!find) return push_captures(&m, from, e);
                lua_pushinteger(L, (from - s) + 1);
                lua_pushinteger(L, e - s);
                return push_captures(&m, NULL, NULL) + 2;
            }
        } while (from++ < m.subject_end && !anchored);
    }
    luaL_pushfail(L);
    return 1;
}

static int str_find(lua_State *L) { return find_or_match(L, 1); }
static int str_match(lua_State *L) { return find_or_match(L, 0); }

typedef struct {
    const char *from;
    const char *pattern;
    const char *last_match;  // an empty match right after it is skipped
    Matcher m;
} Iteration;

static int gmatch_next(lua_State *L) {
    Iteration *it = (Iteration *)lua_touserdata(L, lua_upvalueindex(3));
    it->m.L = L;  // the loop may run in another coroutine than the one that made it
    for (const char *from = it->from; from <= it->m.subject_end; from++) {
        restart(&it->m);
        const char *e = match(&it->m, from, it->pattern);
        if (e != NULL && e != it->last_match) {
            it->from = it->last_match = e;
            return push_captures(&it->m, from, e);
        }
    }
    return 0;
}

static int str_gmatch(lua_State *L) {
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_position(luaL_optinteger(L, 3, 1), ls) - 1;
    lua_settop(L, 2);  // the strings stay alive as upvalues
    Iteration *it = (Iteration *)lua_newuserdatauv(L, sizeof(Iteration), 0);
    if (init > ls) init = ls + 1;
    prepare(&it->m, L, s, ls, p, lp);
    it->from = s + init;
    it->pattern = p;
    it->last_match = NULL;
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

/// Appends the replacement string (argument 3) for the match `s`..`e`.
static void add_template(Matcher *m, luaL_Buffer *b, const char *s, const char *e) {
    size_t length;
    const char *t = lua_tolstring(m->L, 3, &length);
    const char *escape;
    while ((escape = memchr(t, ESCAPE, length)) != NULL) {
        luaL_addlstring(b, t, (size_t)(escape - t));
        char c = escape[1];  // the string's terminating NUL when '%' ends it
        if (c == ESCAPE) {
            luaL_addchar(b, ESCAPE);
        } else if (c == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (isdigit((unsigned char)c)) {
            const char *text;
            ptrdiff_t n = capture_text(m, c - '1', s, e, &text);
            if (n == CAPTURE_POSITION) luaL_addvalue(b);
            else luaL_addlstring(b, text, (size_t)n);
        } else {
            luaL_error(m->L, "invalid use of '%c' in replacement string", ESCAPE);
        }
        length -= (size_t)(escape + 2 - t);
        t = escape + 2;
    }
    luaL_addlstring(b, t, length);
}

/// Appends the replacement for the match `s`..`e`; returns whether it
/// changed anything (false or nil from a function or table keeps the match).
static int add_replacement(Matcher *m, luaL_Buffer *b, const char *s, const char *e, int kind) {
    lua_State *L = m->L;
    if (kind == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = push_captures(m, s, e);
        lua_call(L, n, 1);
    } else if (kind == LUA_TTABLE) {
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
    } else {
        add_template(m, b, s, e);
        return 1;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return 0;
    }
    if (!lua_isstring(L, -1)) return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return 1;
}

static int str_gsub(lua_State *L) {
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    const char *last_match = NULL;
    int kind = lua_type(L, 3);
    lua_Integer most = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(L, kind == LUA_TNUMBER || kind == LUA_TSTRING || kind == LUA_TFUNCTION || kind == LUA_TTABLE,
                     3, "string/function/table");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    int anchored = *p == '^';
    if (anchored) {
        p++;
        lp--;
    }
    Matcher m;
    prepare(&m, L, s, ls, p, lp);
    lua_Integer n = 0;
    int changed = 0;
    while (n < most) {
        restart(&m);
        const char *e = match(&m, s, p);
        if (e != NULL && e != last_match) {
            n++;
            changed = add_replacement(&m, &b, s, e, kind) | changed;
            s = last_match = e;
        } else if (s < m.subject_end) {
            luaL_addchar(&b, *s++);
        } else {
            break;
        }
        if (anchored) break;
    }
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, s, (size_t)(m.subject_end - s));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

void curator_install_patterns(lua_State *L) {
    if (lua_getglobal(L, "string") == LUA_TTABLE) {
        static const luaL_Reg functions[] = {
            {"find", str_find}, {"match", str_match}, {"gmatch", str_gmatch}, {"gsub", str_gsub}, {NULL, NULL},
        };
        luaL_setfuncs(L, functions, 0);
    }
    lua_pop(L, 1);
}
