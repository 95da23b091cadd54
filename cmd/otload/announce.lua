-- wrk script: HTTP announces in the shape otload sends, for a second
-- opinion on HTTP rates. One connection per request (Connection: close;
-- KEEPALIVE=1 to reuse), compact replies, numwant 50, a random torrent of
-- the whitelist (one 40-hex info hash a line, as "otload hashes" prints),
-- a random peer of 4096 (peer id and port).
--
--   otload hashes -torrents 1000 > /tmp/wl/whitelist
--   WL=/tmp/wl/whitelist wrk -t2 -c16 -d10s -s announce.lua http://127.0.0.1:6969
--
-- For go-opentracker set I2P=1 and ANNOUNCE_PATH=/a: each request then
-- carries ip= a stand-in Base64 Destination of its peer (384 key bytes
-- and an Ed25519 key certificate), built once per peer at start-up.

local hashes = {}
local dests = {}
local keepalive = os.getenv("KEEPALIVE") == "1"
local i2p = os.getenv("I2P") == "1"
local path = os.getenv("ANNOUNCE_PATH") or "/announce"

local function escape(bin)
  return (bin:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function unhex(h)
  return (h:gsub("..", function(x) return string.char(tonumber(x, 16)) end))
end

local b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-~"
local function i2pbase64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local chars = 4
    if not b then chars = 2 elseif not c then chars = 3 end
    for k = 1, 4 do
      if k <= chars then
        local idx = math.floor(n / 2 ^ (6 * (4 - k))) % 64
        out[#out + 1] = b64:sub(idx + 1, idx + 1)
      else
        out[#out + 1] = "="
      end
    end
  end
  return table.concat(out)
end

local function standin(peer)
  -- 256-byte public key field, 128-byte signing key field (the Ed25519
  -- key in its last 32 bytes), key certificate: type 5, length 4, sig
  -- type 7, crypto type 0.
  local t = {}
  for i = 1, 384 do t[i] = string.char((peer * 131 + i * 7) % 256) end
  t[1], t[2] = string.char(math.floor(peer / 256) % 256), string.char(peer % 256)
  return i2pbase64(table.concat(t) .. "\5\0\4\0\7\0\0")
end

function init(args)
  local f = assert(io.open(os.getenv("WL") or "/tmp/wl/whitelist"))
  for line in f:lines() do
    if #line >= 40 then hashes[#hashes + 1] = escape(unhex(line:sub(1, 40))) end
  end
  f:close()
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  if i2p then
    for peer = 1, 4096 do dests[peer] = escape(standin(peer)) end
  end
end

function request()
  local peer = math.random(1, 4096)
  local q = path .. "?info_hash=" .. hashes[math.random(1, #hashes)] ..
    "&peer_id=-WK0001-" .. string.format("%012d", peer) ..
    "&port=" .. (1024 + peer) .. "&uploaded=0&downloaded=0&left=" .. (math.random() < 0.3 and 0 or 1073741824) ..
    "&numwant=50&compact=1"
  if i2p then q = q .. "&ip=" .. dests[peer] end
  local headers = {}
  if not keepalive then headers["Connection"] = "close" end
  return wrk.format("GET", q, headers)
end
