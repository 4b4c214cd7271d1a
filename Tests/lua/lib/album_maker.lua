-- Makes small test albums: a minimal PNG encoder (stored deflate blocks, so
-- no compression library is needed) and a folder of distinct images.
local M = {}

local crc_table = {}
for n = 0, 255 do
  local c = n
  for _ = 1, 8 do
    if c & 1 == 1 then c = 0xEDB88320 ~ (c >> 1) else c = c >> 1 end
  end
  crc_table[n] = c
end

local function crc32(s)
  local c = 0xFFFFFFFF
  for i = 1, #s do c = crc_table[(c ~ s:byte(i)) & 0xFF] ~ (c >> 8) end
  return c ~ 0xFFFFFFFF
end

local function adler32(s)
  local a, b = 1, 0
  for i = 1, #s do
    a = (a + s:byte(i)) % 65521
    b = (b + a) % 65521
  end
  return (b << 16) | a
end

local function chunk(kind, data)
  return string.pack(">I4", #data) .. kind .. data .. string.pack(">I4", crc32(kind .. data))
end

--- PNG bytes of a w×h RGB image; pixel(x, y) returns r, g, b (0..255).
function M.png(w, h, pixel)
  local rows = {}
  for y = 0, h - 1 do
    local row = { "\0" }
    for x = 0, w - 1 do
      local r, g, b = pixel(x, y)
      row[#row + 1] = string.char(r, g, b)
    end
    rows[#rows + 1] = table.concat(row)
  end
  local raw = table.concat(rows)
  local blocks = { "\x78\x01" }
  local pos = 1
  repeat
    local piece = raw:sub(pos, pos + 65534)
    pos = pos + #piece
    local final = pos > #raw and 1 or 0
    blocks[#blocks + 1] = string.pack("<BI2I2", final, #piece, (~#piece) & 0xFFFF) .. piece
  until pos > #raw
  blocks[#blocks + 1] = string.pack(">I4", adler32(raw))
  return "\x89PNG\r\n\26\n" .. chunk("IHDR", string.pack(">I4I4BBBBB", w, h, 8, 2, 0, 0, 0))
    .. chunk("IDAT", table.concat(blocks)) .. chunk("IEND", "")
end

--- Writes `bytes` to `path`.
function M.write(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
end

--- A folder of `n` distinct 16×16 images (img01.png ...), each a gradient
--- of its own hue; returns the folder.
function M.album(dir, n)
  os.execute("mkdir -p '" .. dir .. "'")
  for i = 1, n do
    local hue = (i - 1) / n
    local r0 = math.floor(127 + 120 * math.cos(2 * math.pi * hue))
    local g0 = math.floor(127 + 120 * math.cos(2 * math.pi * (hue - 1 / 3)))
    local b0 = math.floor(127 + 120 * math.cos(2 * math.pi * (hue - 2 / 3)))
    M.write(string.format("%s/img%02d.png", dir, i), M.png(16, 16, function(x, y)
      local t = (x + y * (i % 3)) / 48
      return math.floor(r0 * (1 - t)), math.floor(g0 * (0.5 + t / 2)), math.floor(b0 * (1 - t / 2))
    end))
  end
  return dir
end

return M
