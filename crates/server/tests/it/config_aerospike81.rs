//! Aerospike 8.1 configuration files start Aerie: the `network { admin { } }` stanza opens an
//! admin port that answers the client protocol, and nodes whose files have no `http` stanza start
//! even when the console's default port is taken (several nodes on one host).

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use aerie_testkit::cluster::{free_port, info};
use aerie_testkit::ServerProcess;

/// What Aerie's console binds when a file has no `http` stanza.
const DEFAULT_CONSOLE_PORT: u16 = 8080;

#[test]
fn admin_stanza_opens_an_admin_port() {
    let admin_port = free_port().unwrap_or_else(|e| panic!("free port: {e}"));
    let config = format!(
        "service {{ cluster-name c81 }}\n\
         network {{\n\
           service {{ address 127.0.0.1\n port 3000 }}\n\
           admin {{ address 127.0.0.1\n port {admin_port} }}\n\
           heartbeat {{ mode mesh\n address 127.0.0.1\n port 0 }}\n\
           fabric {{ address 127.0.0.1\n port 0 }}\n\
           http {{ address 127.0.0.1\n port 0 }}\n\
         }}\n\
         namespace test {{ replication-factor 1\n storage-engine memory {{ data-size 64M }} }}\n"
    );
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .config(config)
        .start();
    let admin = SocketAddr::from((Ipv4Addr::LOCALHOST, admin_port));
    let namespaces = info(admin, "namespaces").unwrap_or_else(|e| panic!("admin port: {e}"));
    assert_eq!(namespaces, "test");
    // The service port keeps answering too.
    let build = info(server.addr(), "build").unwrap_or_else(|e| panic!("service port: {e}"));
    assert!(build.starts_with('8'), "{build}");
}

#[test]
fn taken_default_console_port_is_a_warning() {
    // Hold the default console port unless something on this host already does; either way
    // the node below cannot have it.
    let _held = TcpListener::bind((Ipv4Addr::LOCALHOST, DEFAULT_CONSOLE_PORT)).ok();
    assert!(
        TcpListener::bind((Ipv4Addr::LOCALHOST, DEFAULT_CONSOLE_PORT)).is_err(),
        "port {DEFAULT_CONSOLE_PORT} should be taken"
    );
    let config = "network {\n\
           service { address 127.0.0.1\n port 3000 }\n\
           heartbeat { mode mesh\n address 127.0.0.1\n port 0 }\n\
           fabric { address 127.0.0.1\n port 0 }\n\
         }\n\
         namespace test { replication-factor 1\n storage-engine memory { data-size 64M } }\n";
    let server = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .config(config)
        .config_http_port()
        .start();
    let namespaces = info(server.addr(), "namespaces").unwrap_or_else(|e| panic!("info: {e}"));
    assert_eq!(namespaces, "test");
    let log = std::fs::read_to_string(server.stderr_path()).unwrap_or_default();
    assert!(log.contains("console not started"), "{log}");
}

#[test]
fn taken_console_port_named_in_the_file_stops_start() {
    let holder = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap_or_else(|e| panic!("{e}"));
    let port = holder.local_addr().map(|a| a.port()).unwrap_or_default();
    let config = format!(
        "network {{\n\
           service {{ address 127.0.0.1\n port 3000 }}\n\
           heartbeat {{ mode mesh\n address 127.0.0.1\n port 0 }}\n\
           fabric {{ address 127.0.0.1\n port 0 }}\n\
           http {{ address 127.0.0.1\n port {port} }}\n\
         }}\n\
         namespace test {{ replication-factor 1\n storage-engine memory {{ data-size 64M }} }}\n"
    );
    let started = ServerProcess::builder()
        .bin(env!("CARGO_BIN_EXE_aerie"))
        .config(config)
        .config_http_port()
        .try_start();
    let err = started.err().unwrap_or_default();
    assert!(err.contains("cannot listen on http"), "{err}");
}
