-- curator.json: scripts emit results for other tools.
local T = ...
local json = curator.json

T.test("encodes scalars, arrays and objects with sorted keys", function()
  T.eq(json.encode(1), "1")
  T.eq(json.encode(1.5), "1.5")
  T.eq(json.encode(true), "true")
  T.eq(json.encode("a\"b\\c\n\t\1"), [["a\"b\\c\n\t\u0001"]])
  T.eq(json.encode({ 3, 2, 1 }), "[3,2,1]")
  T.eq(json.encode({ b = 1, a = { x = true }, c = "s" }), [[{"a":{"x":true},"b":1,"c":"s"}]])
  T.eq(json.encode({}), "[]")
  T.eq(json.encode(json.object {}), "{}")
  T.eq(json.encode({ a = json.null }), [[{"a":null}]])
  T.eq(json.encode({ [1] = "a", [3] = "c" }), [[{"1":"a","3":"c"}]])
  T.eq(json.encode({ 1, 2, x = 3 }), [[{"1":1,"2":2,"x":3}]])
  T.eq(json.encode("é"), [["é"]])
  T.eq(json.encode("\xff"), "\"\xef\xbf\xbd\"", "invalid UTF-8 becomes U+FFFD")
end)

T.test("indents when asked", function()
  T.eq(json.encode({ a = { 1, 2 } }, { indent = 2 }), '{\n  "a": [\n    1,\n    2\n  ]\n}')
end)

T.test("refuses what JSON cannot hold", function()
  T.raises("curator.json.encode: cannot encode nan at $", json.encode, 0 / 0)
  T.raises("curator.json.encode: cannot encode inf at $.x", json.encode, { x = math.huge })
  T.raises("curator.json.encode: cannot encode a function at $[1]", json.encode, { print })
  local t = {}
  t.self = t
  T.raises("curator.json.encode: cycle at $.self", json.encode, t)
  T.raises("curator.json.encode: cannot encode the non-integer key 1.5 at $", json.encode, { [1.5] = 1 })
  T.raises("curator.json.encode: cannot encode a boolean key at $", json.encode, { [true] = 1 })
  T.raises("curator.json.encode: bad argument #1 (value expected, got no value)", json.encode)
  T.raises("curator.json.encode: indent must be an integer from 0 to 16 (got 99)", json.encode, 1, { indent = 99 })
  local deep = {}
  local cur = deep
  for _ = 1, 300 do cur.x = {}; cur = cur.x end
  T.contains(T.raises(nil, json.encode, deep), "nesting deeper than 200 levels")
end)

T.test("decodes JSON into Lua values", function()
  local v = json.decode('{"a": [1, 2.5, "x", true, false, null], "b": {"c": -3e2}, "u": "\\u00e9\\ud83d\\ude00"}')
  T.eq(v.a[1], 1)
  T.eq(math.type(v.a[1]), "integer")
  T.eq(v.a[2], 2.5)
  T.eq(v.a[3], "x")
  T.eq(v.a[4], true)
  T.eq(v.a[5], false)
  T.eq(v.a[6], json.null)
  T.eq(v.b.c, -300.0)
  T.eq(v.u, "é😀")
  T.eq(json.encode(json.decode("{}")), "{}", "an empty object stays an object")
  T.eq(json.encode(json.decode("[]")), "[]")
  T.eq(json.decode("12345678901234567890"), 12345678901234567890.0, "too big for an integer becomes a float")
end)

T.test("bad JSON returns nil and a message naming the place", function()
  local v, err = json.decode('{"a": 1,}')
  T.eq(v, nil)
  T.eq(err, "invalid JSON: unexpected '}' at line 1, column 9")
  v, err = json.decode('[1, 2')
  T.eq(err, "invalid JSON: unexpected end of input at line 1, column 6")
  v, err = json.decode('{"a":\n tru}')
  T.eq(err, "invalid JSON: unexpected '}' at line 2, column 5")
  v, err = json.decode('1 2')
  T.eq(err, "invalid JSON: unexpected data after the JSON value at line 1, column 3")
  v, err = json.decode(string.rep("[", 1000))
  T.eq(err, "invalid JSON: nesting deeper than 500 levels at line 1, column 501")
  v, err = json.decode('"\1"')
  T.eq(err, "invalid JSON: control character in string at line 1, column 2")
  T.raises("curator.json.decode: bad argument #1 (string expected, got table)", json.decode, {})
end)

T.test("round-trips what it encodes", function()
  local value = { name = "x", list = { 1, 2, { y = "z" } }, n = -0.25, flag = false }
  local text = json.encode(value)
  T.eq(json.encode(json.decode(text)), text)
end)
