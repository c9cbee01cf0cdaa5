// tokio's skynet (1M leaves, 10-way spawn tree) and fib(30) with a spawn per call, on the
// multi-thread runtime with N workers: the peer of coloop's runtime in bench/sched/run.py.
// Every node is a tokio::spawn joined through its JoinHandle, as in sched_bench.cpp. Prints one
// JSON line in coloop_sched_bench's format; flavour tokioN.
//
//     tokio_sched skynet|fib WORKERS [--quick]      (--quick: no warm-up run)
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

const SKYNET_LEAVES: u64 = 1_000_000;
const SKYNET_SPAWNS: u64 = 1_111_111; // every node, the root included
const FIB_N: u32 = 30;
const FIB_VALUE: u64 = 832_040;
const FIB_CALLS: u64 = 2_692_537; // 2 * fib(31) - 1: every call is spawned, the root too

// Recursion through tokio::spawn needs a named future type: the box is that indirection.
fn skynet(num: u64, size: u64) -> BoxFut<u64> {
    Box::pin(async move {
        if size == 1 {
            return num;
        }
        let sub = size / 10;
        let mut children = Vec::with_capacity(10);
        for i in 0..10 {
            children.push(tokio::spawn(skynet(num + i * sub, sub)));
        }
        let mut sum = 0;
        for c in children {
            sum += c.await.expect("skynet child");
        }
        sum
    })
}

fn fib(n: u32) -> BoxFut<u64> {
    Box::pin(async move {
        if n < 2 {
            return n as u64;
        }
        let a = tokio::spawn(fib(n - 1));
        let b = tokio::spawn(fib(n - 2));
        a.await.expect("fib child") + b.await.expect("fib child")
    })
}

fn peak_rss_kb() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(-1)
}

fn usage() -> ! {
    eprintln!("usage: tokio_sched skynet|fib WORKERS [--quick]");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        usage();
    }
    let bench = args[1].as_str();
    let workers: usize = args[2].parse().unwrap_or_else(|_| usage());
    let quick = args[3..].iter().any(|a| a == "--quick");
    let (ops, expect) = match bench {
        "skynet" => (SKYNET_SPAWNS, SKYNET_LEAVES * (SKYNET_LEAVES - 1) / 2),
        "fib" => (FIB_CALLS, FIB_VALUE),
        _ => usage(),
    };
    if workers == 0 {
        usage();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .expect("tokio runtime");
    // Timed inside the runtime, start-up excluded, like the coloop and Go rows.
    let once = || {
        rt.block_on(async {
            let start = Instant::now();
            let root = if bench == "skynet" { skynet(0, SKYNET_LEAVES) } else { fib(FIB_N) };
            let v = tokio::spawn(root).await.expect("root task");
            (v, start.elapsed().as_nanos() as f64)
        })
    };
    if !quick {
        once();
    }
    let (v, ns) = once();
    let ok = v == expect;
    let check = if bench == "skynet" { format!("sum={}", v) } else { format!("fib(30)={}", v) };
    println!(
        "{{\"bench\": \"{}\", \"flavour\": \"tokio{}\", \"threads\": {}, \"iters\": 1, \
         \"ops_per_iter\": {}, \"op\": \"spawn\", \"ns_per_iter\": {:.1}, \"ns_per_op\": {:.3}, \
         \"peak_rss_kb\": {}, \"ok\": {}, \"check\": \"{}\", \"quick\": {}}}",
        bench, workers, workers, ops, ns, ns / ops as f64, peak_rss_kb(), ok, check, quick
    );
    std::process::exit(if ok { 0 } else { 1 });
}
