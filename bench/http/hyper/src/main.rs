// hyper 0.14 on tokio's current_thread runtime: the Rust peer of bench/http. One thread, HTTP/1.1
// only, keep-alive; every request gets TechEmpower's plaintext answer (hyper adds Date and
// Content-Length). Prints `listening on 127.0.0.1:PORT` when ready; SIGTERM ends it.
use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;

use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Request, Response, Server};

async fn hello(_req: Request<Body>) -> Result<Response<Body>, Infallible> {
    let mut res = Response::new(Body::from("Hello, World!"));
    res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(res)
}

fn port_from_args() -> u16 {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--port") {
        Some(i) => args
            .get(i + 1)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                eprintln!("usage: hyper_http --port PORT");
                std::process::exit(2)
            }),
        None => 8080,
    }
}

fn main() {
    let addr = SocketAddr::from(([127, 0, 0, 1], port_from_args()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let make = make_service_fn(|_| async { Ok::<_, Infallible>(service_fn(hello)) });
        let server = match Server::try_bind(&addr) {
            Ok(b) => b.tcp_nodelay(true).http1_only(true).serve(make),
            Err(e) => {
                eprintln!("hyper_http: cannot listen on {}: {}", addr, e);
                std::process::exit(1)
            }
        };
        println!("listening on {}", server.local_addr());
        std::io::stdout().flush().ok();
        if let Err(e) = server.await {
            eprintln!("hyper_http: {}", e);
            std::process::exit(1)
        }
    });
}
