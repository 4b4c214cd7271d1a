/// `curator.pretty(value [, opts])`: how the REPL shows values. Written in Lua
/// because it only walks Lua values (raw access, so it never runs a getter or
/// `__index`); host objects and tables with `__tostring` show their
/// `tostring`, except that a host object shown on its own shows its
/// `__pretty` form (`HostType.pretty`, e.g. a set's first members).
enum PrettyPrinter {
    /// A chunk returning the `pretty` function.
    static let source = #"""
    local type, tostring, pairs, next, rawget, rawlen, getmetatable, pcall =
          type, tostring, pairs, next, rawget, rawlen, getmetatable, pcall
    local sort, concat, format, mtype = table.sort, table.concat, string.format, math.type

    local keywords = {}
    for w in ("and break do else elseif end false for function goto if in local nil not or repeat return then true until while"):gmatch("%a+") do
      keywords[w] = true
    end

    local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
    local function quote(s)
      return '"' .. s:gsub('[%c"\\]', function(c)
        return escapes[c] or format("\\%03d", c:byte())
      end) .. '"'
    end

    local function safe_tostring(v)
      local ok, s = pcall(tostring, v)
      if ok and type(s) == "string" then return s end
      return "<" .. type(v) .. ": __tostring failed>"
    end

    local jsonnull = curator and curator.json and curator.json.null

    local function scalar(v)
      if v == jsonnull and v ~= nil then return "curator.json.null" end
      local t = type(v)
      if t == "string" then return quote(v) end
      if t == "number" then
        if mtype(v) == "float" then
          if v ~= v then return "nan" end
          if v == math.huge then return "inf" elseif v == -math.huge then return "-inf" end
        end
        return tostring(v)
      end
      return safe_tostring(v)
    end

    local typeorder = { number = 1, string = 2, boolean = 3 }
    local function keyless(a, b)
      local ta, tb = type(a), type(b)
      if ta ~= tb then return (typeorder[ta] or 9) < (typeorder[tb] or 9) end
      if ta == "number" or ta == "string" then
        if a ~= a then return false elseif b ~= b then return true end
        return a < b
      end
      return safe_tostring(a) < safe_tostring(b)
    end

    local function keyrepr(k)
      if type(k) == "string" and k:match("^[%a_][%w_]*$") and not keywords[k] then return k end
      return "[" .. scalar(k) .. "]"
    end

    --- pretty(value [, {depth=4, items=100, width=80, indent="  "}]) -> string
    return function(value, opts)
      if opts ~= nil and type(opts) ~= "table" then
        error("curator.pretty: bad argument #2 (table expected, got " .. type(opts) .. ")", 2)
      end
      opts = opts or {}
      local maxdepth = opts.depth or 4
      local maxitems = opts.items or 100
      local width = opts.width or 80
      local unit = opts.indent or "  "
      local active = {}

      local function render(v, depth, indent)
        if depth == 0 and type(v) == "userdata" then
          local mt = getmetatable(v)
          local long = type(mt) == "table" and rawget(mt, "__pretty")
          if long then
            local ok, s = pcall(long, v)
            if ok and type(s) == "string" then return s end
          end
        end
        if type(v) ~= "table" then return scalar(v) end
        local mt = getmetatable(v)
        if type(mt) == "table" and rawget(mt, "__tostring") then return safe_tostring(v) end
        if active[v] then return "<cycle: " .. safe_tostring(v) .. ">" end
        if next(v) == nil then return "{}" end
        if depth >= maxdepth then return "{...}" end
        active[v] = true
        local items, n = {}, rawlen(v)
        local shown = 0
        local more = 0
        for i = 1, n do
          if shown < maxitems then
            shown = shown + 1
            items[#items + 1] = render(rawget(v, i), depth + 1, indent .. unit)
          else
            more = more + 1
          end
        end
        local keys = {}
        for k in next, v do
          if not (mtype(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
        end
        sort(keys, keyless)
        for _, k in ipairs(keys) do
          if shown < maxitems then
            shown = shown + 1
            items[#items + 1] = keyrepr(k) .. " = " .. render(rawget(v, k), depth + 1, indent .. unit)
          else
            more = more + 1
          end
        end
        if more > 0 then items[#items + 1] = "... (" .. more .. " more)" end
        active[v] = nil
        local line = "{ " .. concat(items, ", ") .. " }"
        if #line + #indent <= width and not line:find("\n", 1, true) then return line end
        local inner = indent .. unit
        return "{\n" .. inner .. concat(items, ",\n" .. inner) .. "\n" .. indent .. "}"
      end

      return render(value, 0, "")
    end
    """#
}
