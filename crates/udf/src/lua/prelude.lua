-- Aerie's Lua environment for user-defined functions: the `list`, `map`, `bytes`, `geojson`,
-- `record` and `aerospike` modules, logging and stream operations, as UDF modules written
-- for Aerospike expect them. Loaded once into every cached Lua state, before any module.
--
-- Values: a list is a table { [ITEMS] = {...}, [COUNT] = n } with metatable List_mt, so
-- that nil elements and `#l` work; a map keeps its entries in { [ENTRIES] = {...} }; bytes
-- wrap a Lua string. The private keys are tables, so no user key can collide with them.
-- The Rust side (value.rs) builds and reads these shapes directly.

local ITEMS, COUNT, ENTRIES, SIZE, DATA = {}, {}, {}, {}, {}
local BINS, DIRTY, META, COMMITTED = {}, {}, {}, {}

local type, rawget, rawset, setmetatable, getmetatable, error, tostring, pairs, ipairs,
      select, string, table, math =
      type, rawget, rawset, setmetatable, getmetatable, error, tostring, pairs, ipairs,
      select, string, table, math

-------------------------------------------------------------------------------------------
-- list

local List_mt = {}
local list_fns = {}

local function new_list(items, n)
    return setmetatable({ [ITEMS] = items, [COUNT] = n }, List_mt)
end

local function is_list(v) return getmetatable(v) == List_mt end

local function check_list(l, fname)
    if getmetatable(l) ~= List_mt then
        error("list." .. fname .. ": expected a list, got " .. type(l), 3)
    end
    return rawget(l, ITEMS), rawget(l, COUNT)
end

List_mt.__index = function(l, i)
    if type(i) == 'number' then return rawget(l, ITEMS)[i] end
    return nil
end
List_mt.__newindex = function(l, i, v)
    if math.type(i) ~= 'integer' and not (type(i) == 'number' and i == math.floor(i)) then
        error("list index must be an integer", 2)
    end
    local n = rawget(l, COUNT)
    if i < 1 or i > n + 1 then error("list index " .. tostring(i) .. " out of range", 2) end
    rawget(l, ITEMS)[i] = v
    if i == n + 1 then rawset(l, COUNT, n + 1) end
end
List_mt.__len = function(l) return rawget(l, COUNT) end
List_mt.__tostring = function(l)
    local items, n = rawget(l, ITEMS), rawget(l, COUNT)
    local parts = {}
    for i = 1, n do parts[i] = tostring(items[i]) end
    return "List(" .. table.concat(parts, ", ") .. ")"
end
List_mt.__eq = function(a, b)
    local ia, na = rawget(a, ITEMS), rawget(a, COUNT)
    local ib, nb = rawget(b, ITEMS), rawget(b, COUNT)
    if na ~= nb then return false end
    for i = 1, na do if ia[i] ~= ib[i] then return false end end
    return true
end

function list_fns.create(_) return new_list({}, 0) end
list_fns.new = list_fns.create
function list_fns.size(l) local _, n = check_list(l, "size"); return n end
function list_fns.append(l, v)
    local items, n = check_list(l, "append")
    items[n + 1] = v
    rawset(l, COUNT, n + 1)
    return l
end
function list_fns.prepend(l, v)
    local items, n = check_list(l, "prepend")
    table.move(items, 1, n, 2)
    items[1] = v
    rawset(l, COUNT, n + 1)
    return l
end
function list_fns.insert(l, pos, v)
    local items, n = check_list(l, "insert")
    if pos < 1 then pos = 1 end
    if pos > n then
        items[pos] = v
        rawset(l, COUNT, pos)
    else
        table.move(items, pos, n, pos + 1)
        items[pos] = v
        rawset(l, COUNT, n + 1)
    end
    return l
end
function list_fns.remove(l, pos)
    local items, n = check_list(l, "remove")
    if pos < 1 or pos > n then return l end
    table.move(items, pos + 1, n + 1, pos)
    items[n] = nil
    rawset(l, COUNT, n - 1)
    return l
end
function list_fns.take(l, k)
    local items, n = check_list(l, "take")
    local out = {}
    k = math.min(k, n)
    for i = 1, k do out[i] = items[i] end
    return new_list(out, math.max(k, 0))
end
function list_fns.drop(l, k)
    local items, n = check_list(l, "drop")
    local out, m = {}, 0
    for i = k + 1, n do m = m + 1; out[m] = items[i] end
    return new_list(out, m)
end
function list_fns.trim(l, pos)
    local items, n = check_list(l, "trim")
    for i = pos, n do items[i] = nil end
    if pos <= n then rawset(l, COUNT, math.max(pos - 1, 0)) end
    return l
end
function list_fns.clone(l)
    local items, n = check_list(l, "clone")
    local out = {}
    for i = 1, n do out[i] = items[i] end
    return new_list(out, n)
end
function list_fns.concat(l1, l2)
    local items, n = check_list(l1, "concat")
    local other, m = check_list(l2, "concat")
    for i = 1, m do items[n + i] = other[i] end
    rawset(l1, COUNT, n + m)
    return l1
end
function list_fns.merge(l1, l2)
    local out = list_fns.clone(l1)
    return list_fns.concat(out, l2)
end
function list_fns.iterator(l)
    local items, n = check_list(l, "iterator")
    local i = 0
    return function()
        i = i + 1
        if i <= n then return items[i] end
        return nil
    end
end
list_fns.is_list = is_list

list = setmetatable(list_fns, {
    __call = function(_, t)
        local out, n = {}, 0
        if t ~= nil then
            if type(t) ~= 'table' then error("list(): expected a table", 2) end
            for i, v in ipairs(t) do out[i] = v; n = i end
        end
        return new_list(out, n)
    end,
})

-------------------------------------------------------------------------------------------
-- map

local Map_mt = {}
local map_fns = {}

local function new_map(entries, n)
    return setmetatable({ [ENTRIES] = entries, [SIZE] = n }, Map_mt)
end

local function is_map(v) return getmetatable(v) == Map_mt end

local function check_map(m, fname)
    if getmetatable(m) ~= Map_mt then
        error("map." .. fname .. ": expected a map, got " .. type(m), 3)
    end
    return rawget(m, ENTRIES)
end

Map_mt.__index = function(m, k)
    if k == nil then return nil end
    return rawget(m, ENTRIES)[k]
end
Map_mt.__newindex = function(m, k, v)
    if k == nil then error("map key must not be nil", 2) end
    local e = rawget(m, ENTRIES)
    local old = e[k]
    e[k] = v
    if old == nil and v ~= nil then
        rawset(m, SIZE, rawget(m, SIZE) + 1)
    elseif old ~= nil and v == nil then
        rawset(m, SIZE, rawget(m, SIZE) - 1)
    end
end
Map_mt.__len = function(m) return rawget(m, SIZE) end
Map_mt.__pairs = function(m) return next, rawget(m, ENTRIES), nil end
Map_mt.__tostring = function(m)
    local parts = {}
    for k, v in pairs(rawget(m, ENTRIES)) do parts[#parts + 1] = tostring(k) .. "=" .. tostring(v) end
    table.sort(parts)
    return "Map(" .. table.concat(parts, ", ") .. ")"
end

function map_fns.create(_) return new_map({}, 0) end
map_fns.new = map_fns.create
function map_fns.size(m) check_map(m, "size"); return rawget(m, SIZE) end
function map_fns.pairs(m) return next, check_map(m, "pairs"), nil end
function map_fns.keys(m)
    local e = check_map(m, "keys")
    local k = nil
    return function()
        k = next(e, k)
        return k
    end
end
function map_fns.values(m)
    local e = check_map(m, "values")
    local k, v = nil, nil
    return function()
        k, v = next(e, k)
        return v
    end
end
function map_fns.remove(m, k)
    check_map(m, "remove")
    m[k] = nil
    return m
end
function map_fns.clone(m)
    local e = check_map(m, "clone")
    local out = {}
    for k, v in next, e do out[k] = v end
    return new_map(out, rawget(m, SIZE))
end
function map_fns.merge(m1, m2, f)
    local out = map_fns.clone(m1)
    for k, v in next, check_map(m2, "merge") do
        local cur = out[k]
        if cur ~= nil and f ~= nil then out[k] = f(cur, v) else out[k] = v end
    end
    return out
end
function map_fns.diff(m1, m2)
    local e1, e2 = check_map(m1, "diff"), check_map(m2, "diff")
    local out = map_fns.create()
    for k, v in next, e1 do if e2[k] == nil then out[k] = v end end
    for k, v in next, e2 do if e1[k] == nil then out[k] = v end end
    return out
end
map_fns.is_map = is_map

map = setmetatable(map_fns, {
    __call = function(_, t)
        local out = new_map({}, 0)
        if t ~= nil then
            if type(t) ~= 'table' then error("map(): expected a table", 2) end
            for k, v in pairs(t) do out[k] = v end
        end
        return out
    end,
})

-------------------------------------------------------------------------------------------
-- bytes: a byte string with an Aerospike particle type (blob by default). Positions are
-- 1-based, as in Aerospike's module.

local Bytes_mt = {}
local bytes_fns = {}
local BLOB_TYPE = 4

local function new_bytes(s, t)
    return setmetatable({ [DATA] = s, [SIZE] = t or BLOB_TYPE }, Bytes_mt)
end

local function check_bytes(b, fname)
    if getmetatable(b) ~= Bytes_mt then
        error("bytes." .. fname .. ": expected bytes, got " .. type(b), 3)
    end
    return rawget(b, DATA)
end

Bytes_mt.__len = function(b) return #rawget(b, DATA) end
Bytes_mt.__index = function(b, i)
    if type(i) ~= 'number' then return nil end
    return string.byte(rawget(b, DATA), i)
end
Bytes_mt.__newindex = function(b, i, v)
    bytes_fns.set_byte(b, i, v)
end
Bytes_mt.__tostring = function(b)
    return "Bytes(" .. string.gsub(rawget(b, DATA), ".", function(c)
        return string.format("%02X", string.byte(c))
    end) .. ")"
end
Bytes_mt.__eq = function(a, b) return rawget(a, DATA) == rawget(b, DATA) end

local function pad_to(s, n)
    if #s < n then return s .. string.rep("\0", n - #s) end
    return s
end

function bytes_fns.size(b) return #check_bytes(b, "size") end
function bytes_fns.set_size(b, n)
    local s = check_bytes(b, "set_size")
    if n < #s then s = string.sub(s, 1, n) else s = pad_to(s, n) end
    rawset(b, DATA, s)
    return true
end
function bytes_fns.get_type(b) check_bytes(b, "get_type"); return rawget(b, SIZE) end
function bytes_fns.set_type(b, t) check_bytes(b, "set_type"); rawset(b, SIZE, t); return true end
function bytes_fns.get_byte(b, i) return string.byte(check_bytes(b, "get_byte"), i) end
function bytes_fns.set_byte(b, i, v)
    local s = check_bytes(b, "set_byte")
    if i < 1 then return false end
    s = pad_to(s, i)
    rawset(b, DATA, string.sub(s, 1, i - 1) .. string.char(v & 0xFF) .. string.sub(s, i + 1))
    return true
end
function bytes_fns.append_byte(b, v)
    rawset(b, DATA, check_bytes(b, "append_byte") .. string.char(v & 0xFF))
    return true
end
function bytes_fns.get_string(b, i, n)
    return string.sub(check_bytes(b, "get_string"), i, i + n - 1)
end
function bytes_fns.set_string(b, i, str)
    local s = pad_to(check_bytes(b, "set_string"), i - 1)
    rawset(b, DATA, string.sub(s, 1, i - 1) .. str .. string.sub(s, i + #str))
    return true
end
function bytes_fns.append_string(b, str)
    rawset(b, DATA, check_bytes(b, "append_string") .. str)
    return true
end
function bytes_fns.get_bytes(b, i, n)
    return new_bytes(string.sub(check_bytes(b, "get_bytes"), i, i + n - 1))
end
function bytes_fns.set_bytes(b, i, other)
    return bytes_fns.set_string(b, i, check_bytes(other, "set_bytes"))
end
function bytes_fns.append_bytes(b, other)
    return bytes_fns.append_string(b, check_bytes(other, "append_bytes"))
end
local int_formats = {
    int16 = { 2, "i2" }, int32 = { 4, "i4" }, int64 = { 8, "i8" },
}
for name, f in pairs(int_formats) do
    local width, code = f[1], f[2]
    for _, endian in ipairs({ { "", ">" }, { "_be", ">" }, { "_le", "<" } }) do
        local suffix, order = endian[1], endian[2]
        bytes_fns["get_" .. name .. suffix] = function(b, i)
            local s = check_bytes(b, "get_" .. name)
            if i < 1 or i + width - 1 > #s then return nil end
            return (string.unpack(order .. code, s, i))
        end
        bytes_fns["set_" .. name .. suffix] = function(b, i, v)
            return bytes_fns.set_string(b, i, string.pack(order .. code, v))
        end
        bytes_fns["append_" .. name .. suffix] = function(b, v)
            return bytes_fns.append_string(b, string.pack(order .. code, v))
        end
    end
end
function bytes_fns.tostring(b) return check_bytes(b, "tostring") end
bytes_fns.is_bytes = function(v) return getmetatable(v) == Bytes_mt end

bytes = setmetatable(bytes_fns, {
    __call = function(_, n)
        if type(n) == 'string' then return new_bytes(n) end
        return new_bytes(string.rep("\0", n or 0))
    end,
})

-------------------------------------------------------------------------------------------
-- geojson

local Geo_mt = {}
Geo_mt.__tostring = function(g) return rawget(g, DATA) end
Geo_mt.__eq = function(a, b) return rawget(a, DATA) == rawget(b, DATA) end
geojson = {
    new = function(s)
        if type(s) ~= 'string' then error("geojson.new: expected a string", 2) end
        return setmetatable({ [DATA] = s }, Geo_mt)
    end,
    tostring = function(g) return rawget(g, DATA) end,
    is_geojson = function(v) return getmetatable(v) == Geo_mt end,
}
-- `geojson(text)` is how Aerospike's Lua builds one (its module has only this and tostring).
setmetatable(geojson, { __call = function(_, s)
    if type(s) ~= 'string' then error("geojson: expected a string", 2) end
    return setmetatable({ [DATA] = s }, Geo_mt)
end })
GeoJSON = geojson

-------------------------------------------------------------------------------------------
-- record: the record a UDF is applied to. Bin writes land in BINS at once and reach the
-- store only through aerospike:create/update (COMMITTED), as in Aerospike.

local Rec_mt = {}
Rec_mt.__index = function(r, name) return rawget(r, BINS)[name] end
Rec_mt.__newindex = function(r, name, v)
    if type(name) ~= 'string' then error("bin name must be a string", 2) end
    if #name > 15 then error("bin name too long: " .. name, 2) end
    if rawget(r, META).readonly then error("record is read-only here", 2) end
    rawget(r, BINS)[name] = v
    rawget(r, DIRTY)[name] = true
end
Rec_mt.__tostring = function(_) return "Record()" end

local function check_rec(r, fname)
    if getmetatable(r) ~= Rec_mt then
        error(fname .. ": expected a record, got " .. type(r), 3)
    end
    return rawget(r, META)
end

record = {
    ttl = function(r) return check_rec(r, "record.ttl").ttl or 0 end,
    gen = function(r) return check_rec(r, "record.gen").gen or 0 end,
    generation = function(r) return check_rec(r, "record.gen").gen or 0 end,
    key = function(r) return check_rec(r, "record.key").key end,
    digest = function(r) return new_bytes(check_rec(r, "record.digest").digest) end,
    setname = function(r) return check_rec(r, "record.setname").setname end,
    last_update_time = function(r) return check_rec(r, "record.last_update_time").lut or 0 end,
    set_ttl = function(r, ttl) check_rec(r, "record.set_ttl").new_ttl = ttl; return 0 end,
    drop_key = function(r) check_rec(r, "record.drop_key").drop_key = true; return 0 end,
    numbins = function(r)
        check_rec(r, "record.numbins")
        local n = 0
        for _, v in pairs(rawget(r, BINS)) do if v ~= nil then n = n + 1 end end
        return n
    end,
    bin_names = function(r)
        check_rec(r, "record.bin_names")
        local names = {}
        for k, _ in pairs(rawget(r, BINS)) do names[#names + 1] = k end
        table.sort(names)
        return list(names)
    end,
}

-- Builds a record; called from Rust with the bins table and the metadata table.
function __aerie_record(bins, meta)
    return setmetatable({ [BINS] = bins, [DIRTY] = {}, [META] = meta }, Rec_mt)
end

-- What the UDF left: committed bins (nil: no update), whether it removed the record, and
-- a new TTL if one was set.
function __aerie_outcome(r)
    local meta = rawget(r, META)
    return rawget(r, COMMITTED), meta.removed == true, meta.new_ttl, meta.drop_key == true
end

local function commit(r)
    local bins = rawget(r, BINS)
    local copy = {}
    for k, v in pairs(bins) do copy[k] = v end
    rawset(r, COMMITTED, copy)
end

-------------------------------------------------------------------------------------------
-- aerospike

aerospike = {}
function aerospike:exists(r) return check_rec(r, "aerospike:exists").exists == true end
function aerospike:create(r)
    local meta = check_rec(r, "aerospike:create")
    if meta.exists then return 1 end
    meta.exists = true
    meta.removed = false
    commit(r)
    return 0
end
function aerospike:update(r)
    local meta = check_rec(r, "aerospike:update")
    if not meta.exists then return -2 end
    commit(r)
    return 0
end
function aerospike:remove(r)
    local meta = check_rec(r, "aerospike:remove")
    if not meta.exists then return 1 end
    rawset(r, BINS, {})
    rawset(r, COMMITTED, {})
    meta.exists = false
    meta.removed = true
    return 0
end
function aerospike:log(level, msg) __aerie_log(level, tostring(msg)) return 0 end

local function fmt(m, ...)
    if select('#', ...) == 0 then return tostring(m) end
    return string.format(m, ...)
end
function warn(m, ...) __aerie_log(1, fmt(m, ...)) end
function info(m, ...) __aerie_log(2, fmt(m, ...)) end
function debug(m, ...) __aerie_log(3, fmt(m, ...)) end
function trace(m, ...) __aerie_log(4, fmt(m, ...)) end

-------------------------------------------------------------------------------------------
-- Stream UDFs: `f(stream, args...)` builds a chain of ops; the server runs the ops up to and
-- including the first reduce over each partition's records and sends what comes out; the
-- client merges those partial results by running the reduce and the rest itself.

local SERVER, EITHER, BOTH = 1, 3, 4

local function copy_value(v)
    if is_map(v) then return map_fns.clone(v) end
    if is_list(v) then return list_fns.clone(v) end
    if type(v) == 'table' and getmetatable(v) == nil then
        local out = {}
        for k, x in pairs(v) do out[k] = x end
        return out
    end
    return v
end

local function op_map(src, f)
    return function()
        local v = src()
        if v == nil then return nil end
        return f(v)
    end
end

local function op_filter(src, p)
    return function()
        for v in src do
            if p(v) then return v end
        end
        return nil
    end
end

local function op_reduce(src, f)
    local done = false
    return function()
        if done then return nil end
        done = true
        local acc = src()
        if acc == nil then return nil end
        for v in src do acc = f(acc, v) end
        return acc
    end
end

local function op_aggregate(src, init, f)
    local done = false
    return function()
        if done then return nil end
        done = true
        local acc = copy_value(init)
        for v in src do acc = f(acc, v) end
        return acc
    end
end

local Stream_mt = {}
Stream_mt.__index = Stream_mt
local function push(s, scope, fn, ...)
    s.ops[#s.ops + 1] = { scope = scope, fn = fn, args = table.pack(...) }
    return s
end
function Stream_mt:map(f) return push(self, EITHER, op_map, f) end
function Stream_mt:filter(p) return push(self, EITHER, op_filter, p) end
function Stream_mt:reduce(f) return push(self, BOTH, op_reduce, f) end
function Stream_mt:aggregate(init, f) return push(self, SERVER, op_aggregate, init, f) end
function Stream_mt:groupby(f)
    local function add(m, v)
        local k = f(v)
        local l = m[k]
        if l == nil then
            l = list()
            m[k] = l
        end
        list_fns.append(l, v)
        return m
    end
    local function join(l1, l2) return list_fns.merge(l1, l2) end
    return self:aggregate(map(), add):reduce(function(a, b) return map_fns.merge(a, b, join) end)
end

-- Runs stream function `f` over the values produced by `next_value` (nil = end) on the
-- server side; calls `emit(v)` for each value that comes out.
function __aerie_stream(f, next_value, emit, ...)
    local s = setmetatable({ ops = {} }, Stream_mt)
    local built = f(s, ...)
    if getmetatable(built) ~= Stream_mt then built = s end
    local src = next_value
    for _, op in ipairs(built.ops) do
        src = op.fn(src, table.unpack(op.args, 1, op.args.n))
        if op.scope == BOTH then break end
    end
    for v in src do emit(v) end
end

-- Values made here are recognised by value.rs through these metatables and keys.
__aerie_private = {
    ITEMS = ITEMS, COUNT = COUNT, ENTRIES = ENTRIES, SIZE = SIZE, DATA = DATA, BINS = BINS,
    List_mt = List_mt, Map_mt = Map_mt, Bytes_mt = Bytes_mt, Geo_mt = Geo_mt, Rec_mt = Rec_mt,
}
