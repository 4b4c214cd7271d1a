-- curator on a pseudo-terminal, driven through tmux, for the tests of the
-- REPL and of the workflows that prompt:
--
--   local terminal = dofile(T.dir .. "/lib/terminal.lua")(T)
--   terminal.test("the prompt answers", { rest = " --no-plugins" }, function(tmux, home)
--     tmux:wait("curator>")
--     tmux:type("6 * 7"); tmux:keys("Enter")
--     tmux:wait("42")
--   end)
--
-- Every wait gives up after a minute, not a few seconds: on a loaded machine
-- (two cores shared by several builds) a key can take seconds to echo, and a
-- test that only fails under load teaches nothing.
return function(T)
  local M = {}

  --- Seconds a wait (for text, or for curator to exit) lasts before it fails.
  M.timeout = 60

  local function shell(cmd)
    local p = io.popen(cmd .. " 2>&1")
    local out = p:read("a")
    p:close()
    return out
  end

  --- Whether tmux is installed.
  function M.available()
    return os.execute("command -v tmux >/dev/null 2>&1") and true or false
  end

  local Tmux = {}
  Tmux.__index = Tmux
  M.Tmux = Tmux

  --- Starts the shell line `command` in a fresh tmux server of its own (a
  --- private socket), in a window of `size` ({columns, lines}; 150 × 50).
  function Tmux.start(command, size)
    local self = setmetatable({ socket = "curator-test-" .. os.time() .. "-" .. math.random(1e6) }, Tmux)
    self.tmux = "tmux -L " .. self.socket .. " "
    size = size or { 150, 50 }
    os.execute(self.tmux .. "new-session -d -s t -x " .. size[1] .. " -y " .. size[2] .. " " .. T.quote(command))
    return self
  end

  --- The window's text, with 300 lines of scroll-back.
  function Tmux:screen()
    return shell(self.tmux .. "capture-pane -p -t t -S -300")
  end

  --- Sends keys by tmux's names ("Enter", "Tab", "C-c").
  function Tmux:keys(...)
    local words = {}
    for i, k in ipairs({ ... }) do words[i] = T.quote(k) end
    os.execute(self.tmux .. "send-keys -t t " .. table.concat(words, " "))
  end

  --- Sends Ctrl-C at a prompt and waits for the fresh `prompt` it leaves,
  --- so keys typed next cannot reach readline before the Ctrl-C does (they
  --- would be cleared with the abandoned line on a loaded machine).
  function Tmux:interrupt(prompt)
    local prompts = self:count(prompt)
    self:keys("C-c")
    return self:wait(prompt, prompts + 1)
  end

  --- Types text literally (no key names).
  function Tmux:type(text)
    os.execute(self.tmux .. "send-keys -t t -l " .. T.quote(text))
  end

  --- Types a line and Enter.
  function Tmux:line(text)
    self:type(text)
    self:keys("Enter")
  end

  --- How many times the screen contains `text` (plain).
  function Tmux:count(text, screen)
    screen = screen or self:screen()
    local n, from = 0, 1
    while true do
      local s, e = screen:find(text, from, true)
      if not s then return n end
      n, from = n + 1, e + 1
    end
  end

  --- Waits until the screen contains `text` (plain) `count` times and
  --- returns the screen; fails after M.timeout seconds.
  function Tmux:wait(text, count)
    count = count or 1
    local deadline, screen = os.time() + M.timeout, nil
    repeat
      screen = self:screen()
      if self:count(text, screen) >= count then return screen end
      os.execute("sleep 0.05")
    until os.time() > deadline
    error("timed out after " .. M.timeout .. " s waiting for " .. string.format("%q", text) .. " on screen:\n" .. screen, 2)
  end

  --- Waits until the program in the window has exited (the session is gone);
  --- fails after M.timeout seconds.
  function Tmux:wait_exit()
    local deadline = os.time() + M.timeout
    repeat
      local state = shell(self.tmux .. "has-session -t t")
      if state:find("can't find", 1, true) or state:find("no server", 1, true) then return end
      os.execute("sleep 0.05")
    until os.time() > deadline
    error("timed out after " .. M.timeout .. " s waiting for the program to exit", 2)
  end

  --- Stops the tmux server and whatever runs in it.
  function Tmux:stop()
    os.execute(self.tmux .. "kill-server >/dev/null 2>&1")
  end

  --- Registers T.test(name) for curator on a terminal. Without tmux the test
  --- says it is skipped. Otherwise `body(tmux, home)` runs with
  --- `[opts.env] curator [opts.rest]` started in tmux, HOME and XDG_DATA_HOME
  --- inside the fresh folder `home` (history and settings never touch the
  --- user's); `opts.rest`, the rest of the shell line, may be a function
  --- returning it (called first, e.g. to make the album it names);
  --- `opts.size` the window's {columns, lines}. When body fails, the error
  --- carries the screen; tmux is stopped either way.
  function M.test(name, opts, body)
    T.test(name, function()
      if not M.available() then
        print("SKIP " .. name .. ": tmux is not installed")
        return
      end
      local home = T.tempdir()
      local rest = opts.rest
      if type(rest) == "function" then rest = rest() end
      local tmux = Tmux.start("env HOME=" .. T.quote(home) .. " XDG_DATA_HOME=" .. T.quote(home .. "/data") .. " "
        .. (opts.env or "") .. " " .. T.quote(T.curator) .. (rest or ""), opts.size)
      local ok, err = pcall(body, tmux, home)
      local screen = ok and "" or tmux:screen()
      tmux:stop()
      if not ok then error(tostring(err) .. "\n--- screen ---\n" .. screen, 0) end
    end)
  end

  return M
end
