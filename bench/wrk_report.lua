-- wrk script for bench/bench.py: prints one line "WRKJSON {...}" with throughput and latency percentiles.
-- With WRK_PATHS=<file> (one path per line) the threads walk the list without repeating a path until it
-- is exhausted (thread t takes paths t, t+T, t+2T, ...), so that every request of the uncached run is
-- for a page not yet in the cache. WRK_THREADS must equal wrk's -t.
local threads = {}

function setup(thread)
    thread:set("tid", #threads)
    table.insert(threads, thread)
end

local paths = nil
local counter = 0
local nthreads = 1

function init(args)
    nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
    local file = os.getenv("WRK_PATHS")
    if file and file ~= "" then
        paths = {}
        for line in io.lines(file) do
            if line ~= "" then table.insert(paths, line) end
        end
    end
end

function request()
    if paths then
        local index = (counter * nthreads + tid) % #paths + 1
        counter = counter + 1
        return wrk.format(nil, paths[index])
    end
    return wrk.request()
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors_connect":%d,"errors_read":%d,' ..
        '"errors_write":%d,"errors_status":%d,"errors_timeout":%d,"p50_us":%d,"p90_us":%d,"p95_us":%d,' ..
        '"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
        summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
        latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
        latency.max, latency.mean))
end
