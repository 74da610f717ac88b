//! The `exec` kind and OpenFaaS `fprocess` images in Docker: each run is a `docker exec` of the
//! command inside the action's container, with classic-watchdog semantics (body on stdin,
//! answer on stdout, `Http_*` and `__OW_*` variables, non-zero exit is an error carrying the
//! output, output read with a bound). A timeout or an oversize answer kills the exec'd
//! process (by its host pid), not the invoker.

use std::time::{Duration, Instant, SystemTime};

use bollard::container::LogOutput;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use bollard::Docker;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::driver::{RunFailure, RunOutput, RunRequest};
use crate::error::{DriverError, Result};
use crate::logs::{ActivationLogs, LogLine, LogStream};
use crate::process::exec::{http_env, openwhisk_env, ExecCommand, KILLED_PROCESS};

/// Runs `command` once in container `name`.
pub(crate) async fn run(
    docker: &Docker,
    name: &str,
    command: &ExecCommand,
    request: &RunRequest,
    timeout: Duration,
) -> Result<RunOutput> {
    let started = SystemTime::now();
    let clock = Instant::now();
    let body = request
        .http
        .as_ref()
        .and_then(|http| http.body.clone())
        .unwrap_or_else(|| request.params.clone().into_bytes());
    let mut env: Vec<String> = command
        .env
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "fprocess" | "combine_output"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    env.extend(
        openwhisk_env(request)
            .into_iter()
            .map(|(k, v)| format!("{k}={v}")),
    );
    if let Some(http) = &request.http {
        env.extend(
            http_env(http, body.len())
                .into_iter()
                .map(|(k, v)| format!("{k}={v}")),
        );
    }
    let mut argv = vec![command.program.clone()];
    argv.extend(command.args.iter().cloned());
    let config = ExecConfig {
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        cmd: Some(argv),
        env: Some(env),
        // The image's own working directory (Whirl's images: /tmp); a user image may lack /tmp.
        working_dir: None,
        ..Default::default()
    };
    let docker_err = |what: &str| {
        let what = format!("{what} in container {name}");
        move |e| DriverError::docker(what, e)
    };
    let exec = docker
        .create_exec(name, config)
        .await
        .map_err(docker_err("creating an exec"))?;
    let options = StartExecOptions {
        detach: false,
        tty: false,
        output_capacity: None,
    };
    let started_exec = docker
        .start_exec(&exec.id, Some(options))
        .await
        .map_err(docker_err("starting an exec"))?;
    let StartExecResults::Attached {
        mut output,
        mut input,
    } = started_exec
    else {
        return Err(DriverError::Docker {
            context: format!("exec in container {name}"),
            message: "docker started the exec detached".to_owned(),
        });
    };
    let limit = command.limits.result_bytes;
    let mut answer: Vec<u8> = Vec::new();
    let mut logs = ActivationLogs::new(command.limits.log_bytes);
    let mut stderr_rest = String::new();
    let reading = async {
        // Write the body while reading, so a command that answers before reading all of its
        // input cannot block on a full pipe.
        let writer = async {
            let _ = input.write_all(&body).await;
            let _ = input.shutdown().await;
        };
        let reader = async {
            while let Some(chunk) = output.next().await {
                match chunk {
                    Ok(LogOutput::StdOut { message }) | Ok(LogOutput::Console { message }) => {
                        answer.extend_from_slice(&message);
                    }
                    Ok(LogOutput::StdErr { message }) if command.combine_output => {
                        answer.extend_from_slice(&message);
                    }
                    Ok(LogOutput::StdErr { message }) => {
                        stderr_rest.push_str(&String::from_utf8_lossy(&message));
                        while let Some(at) = stderr_rest.find('\n') {
                            let line: String = stderr_rest.drain(..=at).collect();
                            logs.push(LogLine::new(
                                SystemTime::now(),
                                LogStream::Stderr,
                                line.trim_end_matches('\n'),
                            ));
                        }
                    }
                    Ok(LogOutput::StdIn { .. }) => {}
                    Err(_) => break,
                }
                if answer.len() > limit {
                    return false;
                }
            }
            true
        };
        let ((), complete) = tokio::join!(writer, reader);
        complete
    };
    let finished = tokio::time::timeout(timeout, reading).await;
    if !stderr_rest.is_empty() {
        logs.push(LogLine::new(
            SystemTime::now(),
            LogStream::Stderr,
            stderr_rest.trim_end_matches('\n'),
        ));
    }
    let result = match finished {
        Err(_) => {
            kill_exec(docker, &exec.id).await;
            Err(RunFailure::Timeout { after: timeout })
        }
        Ok(false) => {
            kill_exec(docker, &exec.id).await;
            Err(RunFailure::ResultTooLarge {
                size: answer.len(),
                limit,
            })
        }
        Ok(true) => {
            let inspected = docker
                .inspect_exec(&exec.id)
                .await
                .map_err(docker_err("inspecting an exec"))?;
            let text = String::from_utf8_lossy(&answer).into_owned();
            match inspected.exit_code {
                Some(0) => Ok(command.answer(request, &answer)),
                Some(code) => Err(RunFailure::ExitStatus {
                    code: i32::try_from(code).ok(),
                    output: text,
                }),
                None => Err(RunFailure::ExitStatus {
                    code: None,
                    output: text,
                }),
            }
        }
    };
    let result = match result {
        Err(RunFailure::Timeout { after }) => {
            logs.push(LogLine::new(
                SystemTime::now(),
                LogStream::Stderr,
                KILLED_PROCESS,
            ));
            Err(RunFailure::Timeout { after })
        }
        other => other,
    };
    Ok(RunOutput {
        result,
        logs_truncated: logs.truncated(),
        logs: logs.into_lines(),
        started,
        duration: clock.elapsed(),
    })
}

/// Kills an exec'd process by its host pid (Docker has no API to stop one exec).
async fn kill_exec(docker: &Docker, exec_id: &str) {
    let pid = match docker.inspect_exec(exec_id).await {
        Ok(inspected) => inspected.pid,
        Err(error) => {
            tracing::warn!(%error, "cannot inspect an exec to kill it");
            return;
        }
    };
    let Some(pid) = pid
        .and_then(|pid| i32::try_from(pid).ok())
        .and_then(rustix::process::Pid::from_raw)
    else {
        return;
    };
    if let Err(error) = rustix::process::kill_process(pid, rustix::process::Signal::KILL) {
        tracing::warn!(%error, pid = pid.as_raw_nonzero(), "cannot kill an exec'd process");
    }
}
