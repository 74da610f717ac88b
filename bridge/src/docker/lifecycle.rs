//! The Docker calls behind each driver operation: create (with the attach and the readiness
//! wait of each protocol), init, run, destroy, the leftovers of an earlier run, stats, and why
//! a container died (Docker's `OOMKilled`).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bollard::query_parameters::{
    CreateContainerOptionsBuilder, InspectContainerOptions, ListContainersOptionsBuilder,
    RemoveContainerOptionsBuilder, StartContainerOptions, StatsOptionsBuilder,
};
use bollard::Docker;
use futures::StreamExt;
use tokio::net::UnixListener;

use crate::actionloop::{check_json_object, init_answer_error, init_line, run_line};
use crate::docker::attach::{attach, CollectedLines};
use crate::docker::container::{Channel, DockerContainer, Ready};
use crate::docker::freezer::Freezer;
use crate::docker::host_config::{
    create_body, network_mode, Placement, Protocol, ACTIONLOOP_SOCKET,
};
use crate::docker::http::{forward, post_json, wait_for_port, ForwardOutcome, HttpOutcome};
use crate::docker::Inner;
use crate::driver::{
    ContainerId, ContainerImage, ContainerSpec, InitRequest, RunFailure, RunOutput, RunRequest,
};
use crate::error::{DriverError, Result};
use crate::kind::RuntimeKind;
use crate::launcher::connection::{Answer, LauncherConnection, LauncherIo};
use crate::launcher::session;
use crate::logs::LogLine;
use crate::process::exec::ExecCommand;

/// Longest log line kept from a container that writes no sentinels.
const MAX_LINE: usize = 16 * 1024;

/// How long to let a blackbox container's last log lines arrive after its answer.
const HTTP_LOG_GRACE: Duration = Duration::from_millis(2);

/// What a blackbox image needs, read from its configuration once.
#[derive(Debug, Clone)]
pub(crate) struct ImageFacts {
    /// OpenFaaS-style images carry their command in the `fprocess` variable.
    fprocess: Option<String>,
    /// An OpenFaaS of-watchdog in `http` mode (`mode=http`): it serves port 8080 itself and
    /// proxies to its long-running `fprocess`, so requests are forwarded, not exec'd.
    http_mode: bool,
}

/// A container's memory and CPU use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContainerUsage {
    pub memory_bytes: u64,
    pub memory_limit_bytes: u64,
    pub cpu_total_ns: u64,
    pub pids: u64,
}

async fn image_facts(inner: &Inner, image: &str) -> Result<ImageFacts> {
    if let Some(facts) = inner
        .image_facts
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(image)
    {
        return Ok(facts.clone());
    }
    let inspected = inner
        .docker
        .inspect_image(image)
        .await
        .map_err(|error| match &error {
            bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            } => DriverError::ImageUnavailable {
                image: image.to_owned(),
                reason: "no such image (Whirl does not pull: build or load it on this host)"
                    .to_owned(),
            },
            _ => DriverError::docker(format!("inspecting image {image}"), error),
        })?;
    let env = inspected
        .config
        .and_then(|config| config.env)
        .unwrap_or_default();
    let fprocess = env
        .iter()
        .find_map(|entry| entry.strip_prefix("fprocess=").map(str::to_owned))
        .filter(|command| !command.trim().is_empty());
    let http_mode = env
        .iter()
        .any(|entry| entry.trim().eq_ignore_ascii_case("mode=http"));
    let facts = ImageFacts {
        fprocess,
        http_mode,
    };
    inner
        .image_facts
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(image.to_owned(), facts.clone());
    Ok(facts)
}

/// Creates and starts a container for `spec` and waits until it is ready for its init.
pub(crate) async fn create(inner: &Inner, spec: &ContainerSpec) -> Result<DockerContainer> {
    let mut watchdog = false;
    let (protocol, image, fprocess) = match &spec.image {
        ContainerImage::Runtime(RuntimeKind::Exec) => {
            (Protocol::Exec, inner.images.exec.clone(), None)
        }
        ContainerImage::Runtime(kind) => (
            Protocol::ActionLoop,
            inner.images.for_kind(*kind).to_owned(),
            None,
        ),
        ContainerImage::Blackbox(image) => {
            let facts = image_facts(inner, image).await?;
            watchdog = facts.http_mode;
            match facts.fprocess {
                Some(command) if !facts.http_mode => (Protocol::Exec, image.clone(), Some(command)),
                _ => (Protocol::OpenWhiskHttp, image.clone(), None),
            }
        }
    };
    let _permit = inner
        .creates
        .acquire()
        .await
        .map_err(|_| DriverError::Docker {
            context: "creating a container".to_owned(),
            message: "the driver is shutting down".to_owned(),
        })?;
    let serial = inner
        .serial
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = docker_name(&format!(
        "whirl-{}-{}-{}-{serial}",
        inner.config.instance, inner.config.invoker, inner.run_id
    ));
    let host_dir = inner.config.runtime_dir.join("docker").join(&name);
    std::fs::create_dir_all(&host_dir)
        .map_err(|e| DriverError::io(format!("creating {}", host_dir.display()), e))?;
    let _ = std::fs::set_permissions(&host_dir, std::fs::Permissions::from_mode(0o755));
    let listener = if protocol == Protocol::ActionLoop {
        let path = host_dir.join("actionloop.sock");
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path)
            .map_err(|e| DriverError::io(format!("listening on {}", path.display()), e))?;
        // The launcher runs as nobody.
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666));
        Some(listener)
    } else {
        None
    };
    let mut env: Vec<String> = spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if protocol == Protocol::ActionLoop {
        env.push(format!("WHIRL_ACTIONLOOP_SOCKET={ACTIONLOOP_SOCKET}"));
        env.push("__OW_WAIT_FOR_ACK=true".to_owned());
        env.push("WHIRL_WORK_DIR=/tmp/action".to_owned());
    }
    let mut labels: HashMap<String, String> = spec
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    labels.insert("whirl.instance".to_owned(), inner.config.instance.clone());
    labels.insert("whirl.invoker".to_owned(), inner.config.invoker.clone());
    labels.insert("whirl.driver".to_owned(), "docker".to_owned());
    labels.insert("whirl.image".to_owned(), spec.image.to_string());
    labels.insert("whirl.memory_mb".to_owned(), spec.memory_mb.to_string());
    let host_path = host_dir.display().to_string();
    let placement = Placement {
        protocol,
        image: &image,
        host_dir: &host_path,
        egress: &inner.egress_network,
    };
    let body = create_body(&inner.config, spec, placement, env, labels);
    let options = CreateContainerOptionsBuilder::new().name(&name).build();
    inner
        .docker
        .create_container(Some(options), body)
        .await
        .map_err(|error| match &error {
            bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            } => DriverError::ImageUnavailable {
                image: image.clone(),
                reason: error.to_string(),
            },
            _ => DriverError::docker(format!("creating container {name} from {image}"), error),
        })?;
    let ended = Arc::new(AtomicBool::new(false));
    let prepared = async {
        let start = || async {
            inner
                .docker
                .start_container(&name, None::<StartContainerOptions>)
                .await
                .map_err(|e| DriverError::docker(format!("starting container {name}"), e))
        };
        let timeout = inner.config.start_timeout;
        let channel = match (protocol, listener) {
            (Protocol::ActionLoop, Some(listener)) => {
                // Attached after the start, while the launcher connects: `logs` replays what
                // the container wrote before the attach, so the attach is off the cold path.
                start().await?;
                let (output, accepted) = tokio::join!(
                    attach(&inner.docker, &name, ended.clone()),
                    tokio::time::timeout(timeout, listener.accept())
                );
                let output = output?;
                let socket = match accepted {
                    Ok(Ok((socket, _))) => socket,
                    Ok(Err(e)) => {
                        return Err(DriverError::io(format!("accepting {name}'s launcher"), e))
                    }
                    Err(_) => {
                        return Err(DriverError::Docker {
                            context: format!("starting container {name}"),
                            message: format!(
                                "its launcher did not connect within {} ms",
                                timeout.as_millis()
                            ),
                        })
                    }
                };
                let conn = LauncherConnection::start(
                    LauncherIo::over_socket(socket, output.stdout, output.stderr),
                    &name,
                );
                match conn.await_ack(timeout).await.answer {
                    Some(Answer::Line(_)) => Channel::Launcher(conn),
                    other => {
                        return Err(DriverError::Docker {
                            context: format!("starting container {name}"),
                            message: format!("its launcher did not start: {other:?}"),
                        })
                    }
                }
            }
            (Protocol::OpenWhiskHttp, _) => {
                let output = attach(&inner.docker, &name, ended.clone()).await?;
                start().await?;
                let logs = CollectedLines::collect(output, MAX_LINE);
                let ip = container_ip(
                    &inner.docker,
                    &name,
                    network_mode(
                        protocol,
                        inner.config.network_of(spec),
                        &inner.egress_network,
                    ),
                )
                .await?;
                let addr = SocketAddr::new(ip, 8080);
                if !wait_for_port(addr, timeout).await {
                    let said: Vec<String> = logs.take().iter().map(ToString::to_string).collect();
                    return Err(DriverError::Docker {
                        context: format!("starting container {name} from {image}"),
                        message: format!(
                            "nothing listens on port 8080 after {} ms (the image must serve OpenWhisk's /init and /run there); it wrote: {}",
                            timeout.as_millis(),
                            said.join(" | ")
                        ),
                    });
                }
                Channel::Http {
                    addr,
                    logs,
                    watchdog,
                }
            }
            _ => {
                let output = attach(&inner.docker, &name, ended.clone()).await?;
                start().await?;
                // The container's own output (an image's entrypoint) is not any run's log.
                let _ = CollectedLines::collect(output, MAX_LINE);
                Channel::Exec { fprocess }
            }
        };
        Ok(channel)
    };
    match prepared.await {
        Ok(channel) => Ok(DockerContainer {
            name,
            spec: spec.clone(),
            image,
            channel,
            host_dir,
            ended,
            freezer: std::sync::OnceLock::new(),
            frozen: AtomicBool::new(false),
        }),
        Err(error) => {
            remove_container(&inner.docker, &name).await;
            let _ = std::fs::remove_dir_all(&host_dir);
            Err(error)
        }
    }
}

/// Docker names allow `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
fn docker_name(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

async fn container_ip(docker: &Docker, name: &str, network: &str) -> Result<std::net::IpAddr> {
    let inspected = docker
        .inspect_container(name, None::<InspectContainerOptions>)
        .await
        .map_err(|e| DriverError::docker(format!("inspecting container {name}"), e))?;
    inspected
        .network_settings
        .and_then(|settings| settings.networks)
        .and_then(|networks| networks.get(network).cloned())
        .and_then(|endpoint| endpoint.ip_address)
        .and_then(|ip| ip.parse().ok())
        .ok_or_else(|| DriverError::Docker {
            context: format!("inspecting container {name}"),
            message: format!("it has no address on network {network}"),
        })
}

/// Initializes a started container. For `exec` containers the init only parses the command.
pub(crate) async fn init(
    inner: &Inner,
    id: &ContainerId,
    body: &DockerContainer,
    request: &InitRequest,
    timeout: Duration,
) -> Result<(Option<ExecCommand>, Vec<LogLine>)> {
    match &body.channel {
        Channel::Launcher(conn) => {
            let concurrency = request.limits.concurrency;
            let kind = match &body.spec.image {
                ContainerImage::Runtime(kind) => *kind,
                ContainerImage::Blackbox(_) => RuntimeKind::Python3,
            };
            if concurrency == 0 || concurrency > kind.max_concurrency() {
                return Err(DriverError::InvalidRequest {
                    id: id.clone(),
                    reason: format!(
                        "concurrency {concurrency} is outside 1..={} for {kind}",
                        kind.max_concurrency()
                    ),
                });
            }
            let logs = session::init(conn, id, request, timeout, inner.config.log_grace).await?;
            Ok((None, logs))
        }
        // An of-watchdog is ready once its port answers; it has nothing to initialize.
        Channel::Http { watchdog: true, .. } => Ok((None, Vec::new())),
        Channel::Http { addr, logs, .. } => {
            let outcome = post_json(*addr, "/init", init_line(request), 1024 * 1024, timeout).await;
            tokio::time::sleep(HTTP_LOG_GRACE).await;
            let lines = logs.take();
            match outcome {
                HttpOutcome::Answered { status: 200, .. } => Ok((None, lines)),
                HttpOutcome::Answered { status, body } => Err(DriverError::InitFailed {
                    id: id.clone(),
                    message: init_answer_error(&body)
                        .unwrap_or_else(|| format!("the init answered {status}")),
                    logs: lines,
                }),
                HttpOutcome::TooLarge { size } => Err(DriverError::InitFailed {
                    id: id.clone(),
                    message: format!("the init answer is too large ({size} bytes)"),
                    logs: lines,
                }),
                HttpOutcome::TimedOut => Err(DriverError::InitTimedOut {
                    id: id.clone(),
                    timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                    logs: lines,
                }),
                HttpOutcome::Failed(detail) => Err(DriverError::InitCrashed {
                    id: id.clone(),
                    detail,
                    logs: lines,
                }),
            }
        }
        Channel::Exec { fprocess } => {
            let mut request = request.clone();
            if let Some(command) = fprocess {
                request
                    .env
                    .entry("fprocess".to_owned())
                    .or_insert_with(|| command.clone());
            }
            let command =
                ExecCommand::from_init(&request).map_err(|message| DriverError::InitFailed {
                    id: id.clone(),
                    message,
                    logs: Vec::new(),
                })?;
            Ok((Some(command), Vec::new()))
        }
    }
}

/// Runs one activation in an initialized container.
pub(crate) async fn run(
    inner: &Inner,
    id: &ContainerId,
    body: &DockerContainer,
    ready: &Ready,
    request: &RunRequest,
    timeout: Duration,
) -> Result<RunOutput> {
    let mut output = match (&body.channel, &ready.exec) {
        (Channel::Launcher(conn), _) => {
            session::run(
                conn,
                id,
                &ready.limits,
                request,
                timeout,
                inner.config.log_grace,
            )
            .await?
        }
        (
            Channel::Http {
                addr,
                logs,
                watchdog: true,
            },
            _,
        ) => run_watchdog(*addr, logs, ready, request, timeout).await,
        (Channel::Http { addr, logs, .. }, _) => {
            run_http(*addr, logs, id, ready, request, timeout).await?
        }
        (Channel::Exec { .. }, Some(command)) => {
            crate::docker::exec::run(&inner.docker, &body.name, command, request, timeout).await?
        }
        (Channel::Exec { .. }, None) => {
            return Err(DriverError::WrongState {
                id: id.clone(),
                operation: "run",
                state: "without a command",
            })
        }
    };
    if let Err(RunFailure::Crashed { .. }) = &output.result {
        if oom_killed(&inner.docker, &body.name).await {
            output.result = Err(RunFailure::OutOfMemory);
        }
    }
    Ok(output)
}

/// One request to an OpenFaaS of-watchdog (`http` mode): the function's HTTP request forwarded
/// as it came (the answer is an [`HttpAnswer`](crate::HttpAnswer) with the function's status,
/// headers and body), or, without one, the parameters POSTed as JSON (the answer body is the
/// result).
async fn run_watchdog(
    addr: SocketAddr,
    logs: &CollectedLines,
    ready: &Ready,
    request: &RunRequest,
    timeout: Duration,
) -> RunOutput {
    let _ = logs.take();
    let started = SystemTime::now();
    let clock = std::time::Instant::now();
    let (method, path, headers, body) = match &request.http {
        Some(http) => {
            let mut path = http.path.clone();
            if !path.starts_with('/') {
                path.insert(0, '/');
            }
            if !http.query.is_empty() {
                path = format!("{path}?{}", http.query);
            }
            (
                http.method.clone(),
                path,
                http.headers.clone(),
                http.body.clone().unwrap_or_default(),
            )
        }
        None => (
            "POST".to_owned(),
            "/".to_owned(),
            vec![("Content-Type".to_owned(), "application/json".to_owned())],
            request.params.clone().into_bytes(),
        ),
    };
    let limit = ready.limits.result_bytes;
    let outcome = forward(addr, &method, &path, &headers, body, limit, timeout).await;
    let duration = clock.elapsed();
    tokio::time::sleep(HTTP_LOG_GRACE).await;
    let result = match outcome {
        ForwardOutcome::Answered {
            status,
            headers,
            body,
        } => match &request.http {
            Some(_) => {
                let mut answer = crate::HttpAnswer::new(status, None, &body);
                answer.headers = headers.into_iter().collect();
                Ok(answer.to_json())
            }
            None => Ok(String::from_utf8_lossy(&body).into_owned()),
        },
        ForwardOutcome::TooLarge { size } => Err(RunFailure::ResultTooLarge { size, limit }),
        ForwardOutcome::TimedOut => Err(RunFailure::Timeout { after: timeout }),
        ForwardOutcome::Failed(detail) => Err(RunFailure::Crashed { detail }),
    };
    let mut lines = crate::logs::ActivationLogs::new(ready.limits.log_bytes);
    for line in logs.take() {
        lines.push(line);
    }
    RunOutput {
        result,
        logs_truncated: lines.truncated(),
        logs: lines.into_lines(),
        started,
        duration,
    }
}

async fn run_http(
    addr: SocketAddr,
    logs: &CollectedLines,
    id: &ContainerId,
    ready: &Ready,
    request: &RunRequest,
    timeout: Duration,
) -> Result<RunOutput> {
    let line = run_line(request).map_err(|e| DriverError::InvalidRequest {
        id: id.clone(),
        reason: e.to_string(),
    })?;
    // Lines from before this run belong to no activation.
    let _ = logs.take();
    let started = SystemTime::now();
    let clock = std::time::Instant::now();
    let outcome = post_json(addr, "/run", line, ready.limits.result_bytes, timeout).await;
    let duration = clock.elapsed();
    tokio::time::sleep(HTTP_LOG_GRACE).await;
    let result = match outcome {
        HttpOutcome::Answered { status, body } => match check_json_object(&body) {
            // A JSON object is the result, whatever the status; an `error` field in it makes
            // it an application error, as OpenWhisk reads it.
            Ok(()) => Ok(body),
            Err(detail) if status == 200 => Err(RunFailure::BadOutput { detail }),
            Err(_) => Err(RunFailure::BadOutput {
                detail: format!("the action answered status {status} without a JSON object"),
            }),
        },
        HttpOutcome::TooLarge { size } => Err(RunFailure::ResultTooLarge {
            size,
            limit: ready.limits.result_bytes,
        }),
        HttpOutcome::TimedOut => Err(RunFailure::Timeout { after: timeout }),
        HttpOutcome::Failed(detail) => Err(RunFailure::Crashed { detail }),
    };
    let mut lines = crate::logs::ActivationLogs::new(ready.limits.log_bytes);
    for line in logs.take() {
        lines.push(line);
    }
    Ok(RunOutput {
        result,
        logs_truncated: lines.truncated(),
        logs: lines.into_lines(),
        started,
        duration,
    })
}

/// Whether Docker says the container was killed for memory (waiting briefly for it to exit).
async fn oom_killed(docker: &Docker, name: &str) -> bool {
    for _ in 0..20 {
        match docker
            .inspect_container(name, None::<InspectContainerOptions>)
            .await
        {
            Ok(inspected) => {
                let state = inspected.state.unwrap_or_default();
                if state.oom_killed == Some(true) {
                    return true;
                }
                if state.running != Some(true) {
                    return false;
                }
            }
            Err(_) => return false,
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}

async fn remove_container(docker: &Docker, name: &str) {
    let options = RemoveContainerOptionsBuilder::new()
        .force(true)
        .v(true)
        .build();
    match docker.remove_container(name, Some(options)).await {
        Ok(()) => {}
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => {}
        Err(error) => tracing::warn!(container = name, %error, "cannot remove container"),
    }
}

/// Freezes a container's processes (through its cgroup freezer when found, else Docker).
pub(crate) async fn pause(inner: &Inner, body: &DockerContainer) -> Result<()> {
    if body.freezer.get().is_none() {
        let pid = inner
            .docker
            .inspect_container(&body.name, None::<InspectContainerOptions>)
            .await
            .ok()
            .and_then(|inspected| inspected.state)
            .and_then(|state| state.pid)
            .filter(|pid| *pid > 0);
        let _ = body.freezer.set(pid.and_then(Freezer::of_process));
    }
    if let Some(Some(freezer)) = body.freezer.get() {
        let freezing = freezer.clone();
        let frozen = tokio::task::spawn_blocking(move || {
            let outcome = freezing.freeze();
            if outcome.is_err() {
                let _ = freezing.thaw();
            }
            outcome
        })
        .await
        .map_err(|e| {
            DriverError::io(
                format!("freezing container {}", body.name),
                std::io::Error::other(e),
            )
        })?;
        frozen.map_err(|e| DriverError::io(format!("freezing container {}", body.name), e))?;
        body.frozen.store(true, Ordering::Release);
        return Ok(());
    }
    inner
        .docker
        .pause_container(&body.name)
        .await
        .map_err(|e| DriverError::docker(format!("pausing {}", body.name), e))
}

/// Thaws what [`pause`] froze.
pub(crate) async fn unpause(inner: &Inner, body: &DockerContainer) -> Result<()> {
    if let Some(Some(freezer)) = body.freezer.get() {
        freezer
            .thaw()
            .map_err(|e| DriverError::io(format!("thawing container {}", body.name), e))?;
        body.frozen.store(false, Ordering::Release);
        return Ok(());
    }
    inner
        .docker
        .unpause_container(&body.name)
        .await
        .map_err(|e| DriverError::docker(format!("unpausing {}", body.name), e))
}

/// Removes a container from Docker and its host directory.
pub(crate) async fn destroy(inner: &Inner, body: &DockerContainer) {
    if body.frozen.load(Ordering::Acquire) {
        // Frozen processes do not die of SIGKILL under cgroup v1 until thawed.
        if let Some(Some(freezer)) = body.freezer.get() {
            let _ = freezer.thaw();
        }
    }
    remove_container(&inner.docker, &body.name).await;
    if let Err(error) = std::fs::remove_dir_all(&body.host_dir) {
        if error.kind() != std::io::ErrorKind::NotFound {
            tracing::debug!(dir = %body.host_dir.display(), %error, "cannot remove container directory");
        }
    }
}

fn label_filters(inner: &Inner) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_owned(),
        vec![
            format!("whirl.instance={}", inner.config.instance),
            format!("whirl.invoker={}", inner.config.invoker),
        ],
    )])
}

/// The names of the containers labelled with this instance and invoker: running or paused ones,
/// or with `all` stopped ones too.
async fn labelled(inner: &Inner, all: bool) -> Result<Vec<String>> {
    let options = ListContainersOptionsBuilder::new()
        .all(all)
        .filters(&label_filters(inner))
        .build();
    let listed = inner
        .docker
        .list_containers(Some(options))
        .await
        .map_err(|e| DriverError::docker("listing this invoker's containers", e))?;
    Ok(listed
        .into_iter()
        .flat_map(|summary| summary.names.unwrap_or_default())
        .map(|name| name.trim_start_matches('/').to_owned())
        .collect())
}

/// The names of the running (or paused) containers labelled with this instance and invoker.
pub(crate) async fn labelled_names(inner: &Inner) -> Result<HashSet<String>> {
    Ok(labelled(inner, false).await?.into_iter().collect())
}

/// Removes every container (running or not) an earlier run of this instance and invoker left.
pub(crate) async fn remove_leftovers(inner: &Inner) -> Result<usize> {
    let names = labelled(inner, true).await?;
    for name in &names {
        remove_container(&inner.docker, name).await;
        let _ = std::fs::remove_dir_all(inner.config.runtime_dir.join("docker").join(name));
    }
    Ok(names.len())
}

/// One sample of Docker's stats for a container.
pub(crate) async fn stats(docker: &Docker, name: &str) -> Result<ContainerUsage> {
    let options = StatsOptionsBuilder::new()
        .stream(false)
        .one_shot(true)
        .build();
    let mut stream = docker.stats(name, Some(options));
    let sample = stream
        .next()
        .await
        .ok_or_else(|| DriverError::Docker {
            context: format!("stats of {name}"),
            message: "no sample".to_owned(),
        })?
        .map_err(|e| DriverError::docker(format!("stats of {name}"), e))?;
    let memory = sample.memory_stats.unwrap_or_default();
    Ok(ContainerUsage {
        memory_bytes: memory.usage.unwrap_or(0),
        memory_limit_bytes: memory.limit.unwrap_or(0),
        cpu_total_ns: sample
            .cpu_stats
            .and_then(|cpu| cpu.cpu_usage)
            .and_then(|usage| usage.total_usage)
            .unwrap_or(0),
        pids: sample.pids_stats.and_then(|pids| pids.current).unwrap_or(0),
    })
}
