//! The Docker backend's runtime images against the real dockerd: built offline from the host's
//! interpreters, each kind's image runs its interpreter or shell as uid 65534 with the
//! launchers in place, a second build finds every image up to date, and a test's own image
//! builds `FROM` a runtime image (a failing build reports the daemon's error).
//! Fails when dockerd is unreachable: CI starts it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    StartContainerOptions, WaitContainerOptions,
};
use bollard::Docker;
use bridge::docker::images::{
    build_image_from_files, build_runtime_images, runtime_images_if_built, ContextFile, ImageError,
    ImageProgress, RuntimeImages, INPUTS_LABEL, RUNTIME_LABEL, RUNTIME_USER,
};
use futures::StreamExt;

/// Builds run one at a time (the tests of this file share the images).
static BUILDS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static CONTAINERS: AtomicUsize = AtomicUsize::new(0);

async fn docker() -> Docker {
    Docker::connect_with_local_defaults()
        .expect("docker client")
        .negotiate_version()
        .await
        .expect("dockerd must be running for these tests (CI starts it)")
}

/// Builds the runtime images (if needed) and returns them with the progress reported.
async fn build(docker: &Docker) -> (RuntimeImages, Vec<ImageProgress>) {
    let _one_at_a_time = BUILDS.lock().await;
    let events = Mutex::new(Vec::new());
    let started = Instant::now();
    let images = build_runtime_images(docker, false, &|event| {
        events.lock().unwrap().push(event);
    })
    .await
    .unwrap();
    let events = events.into_inner().unwrap();
    eprintln!(
        "build_runtime_images: {:.1} s, {} built",
        started.elapsed().as_secs_f64(),
        events
            .iter()
            .filter(|e| matches!(e, ImageProgress::Built { .. }))
            .count()
    );
    (images, events)
}

/// Runs `cmd` in a new container of `image`, removes it, and returns its exit code and output.
async fn run(docker: &Docker, image: &str, cmd: &[&str]) -> (i64, String) {
    let name = format!(
        "whirl-test-images-{}-{}",
        std::process::id(),
        CONTAINERS.fetch_add(1, Ordering::Relaxed)
    );
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
        labels: Some(HashMap::from([(
            "whirl.test".to_string(),
            "docker_images".to_string(),
        )])),
        network_disabled: Some(true),
        ..Default::default()
    };
    let options = CreateContainerOptionsBuilder::new().name(&name).build();
    docker
        .create_container(Some(options), body)
        .await
        .expect("create container");
    let outcome = async {
        docker
            .start_container(&name, None::<StartContainerOptions>)
            .await
            .expect("start container");
        let mut code = 0;
        let mut wait = docker.wait_container(&name, None::<WaitContainerOptions>);
        while let Some(item) = wait.next().await {
            match item {
                Ok(response) => code = response.status_code,
                Err(bollard::errors::Error::DockerContainerWaitError { code: c, .. }) => code = c,
                Err(err) => panic!("waiting for {name}: {err}"),
            }
        }
        let logs = LogsOptionsBuilder::new().stdout(true).stderr(true).build();
        let mut output = Vec::new();
        let mut stream = docker.logs(&name, Some(logs));
        while let Some(chunk) = stream.next().await {
            output.extend_from_slice(&chunk.expect("container logs").into_bytes());
        }
        (code, String::from_utf8_lossy(&output).into_owned())
    }
    .await;
    docker
        .remove_container(
            &name,
            Some(RemoveContainerOptionsBuilder::new().force(true).build()),
        )
        .await
        .expect("remove container");
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_images_run_their_interpreters_as_nobody_and_rebuild_only_on_change() {
    let docker = docker().await;
    let (images, events) = build(&docker).await;
    assert!(matches!(
        events.first(),
        Some(ImageProgress::Collecting { files, bytes }) if *files > 500 && *bytes > 10_000_000
    ));
    for (name, tag) in [
        ("base", &images.base),
        ("python3", &images.python3),
        ("nodejs20", &images.nodejs20),
        ("exec", &images.exec),
    ] {
        assert!(tag.starts_with(&format!("whirl-runtime-{name}:")), "{tag}");
        let inspect = docker.inspect_image(tag).await.unwrap();
        let config = inspect.config.unwrap();
        assert_eq!(config.user.as_deref(), Some(RUNTIME_USER), "{tag}");
        assert_eq!(config.working_dir.as_deref(), Some("/tmp"), "{tag}");
        let labels = config.labels.unwrap();
        assert_eq!(labels[RUNTIME_LABEL], name);
        assert!(
            tag.ends_with(&labels[INPUTS_LABEL][..16]),
            "{tag} {labels:?}"
        );
        let env = config.env.unwrap();
        assert!(
            env.contains(&"PYTHONDONTWRITEBYTECODE=1".to_string()),
            "{env:?}"
        );
    }

    let (code, out) = run(
        &docker,
        &images.python3,
        &[
            "python3",
            "-c",
            "import json, zipfile, base64, os, ssl, sqlite3; \
             print(1, os.getuid(), os.path.isfile('/opt/whirl/launcher.py'), \
             os.path.isfile(json.__cached__))",
        ],
    )
    .await;
    assert_eq!((code, out.trim()), (0, "1 65534 True True"));

    let (code, out) = run(
        &docker,
        &images.nodejs20,
        &[
            "node",
            "-e",
            "console.log(1, process.getuid(), require('fs').existsSync('/opt/whirl/launcher.js'))",
        ],
    )
    .await;
    assert_eq!((code, out.trim()), (0, "1 65534 true"));

    let (code, out) = run(
        &docker,
        &images.exec,
        &[
            "sh",
            "-c",
            "echo hi | wc -c; ls -ldn /tmp /.whirl; cat /proc/self/status",
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0].trim(), "3", "{out}");
    assert!(
        lines[1].starts_with("drwxr-xr-x") && lines[1].ends_with("/.whirl"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("drwxrwxrwt") && lines[2].ends_with("/tmp"),
        "{out}"
    );
    let uid = lines.iter().find(|l| l.starts_with("Uid:")).unwrap();
    assert!(
        uid.split_whitespace().skip(1).all(|id| id == "65534"),
        "{uid}"
    );

    // Every kind's image keeps its default command.
    let (code, out) = run(&docker, &images.exec, &["sh", "-c", "exit 7"]).await;
    assert_eq!(code, 7, "{out}");

    let (again, events) = build(&docker).await;
    assert_eq!(again, images);
    let up_to_date: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            ImageProgress::UpToDate { image } => Some(image.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        up_to_date,
        vec![
            images.base.as_str(),
            images.python3.as_str(),
            images.nodejs20.as_str(),
            images.exec.as_str()
        ]
    );
    assert!(!events.iter().any(|e| matches!(
        e,
        ImageProgress::Building { .. } | ImageProgress::Built { .. }
    )));
    assert_eq!(
        runtime_images_if_built(&docker).await.unwrap(),
        Some(images)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_image_builds_from_a_runtime_image_and_a_failed_build_says_why() {
    let docker = docker().await;
    let (images, _) = build(&docker).await;
    let tag = format!("whirl-test-images-own:{}", std::process::id());
    let dockerfile = format!("FROM {}\nCOPY app/ /app/\n", images.exec);
    let files = [
        ContextFile {
            path: "app/hello.sh".to_string(),
            mode: 0o755,
            contents: b"#!/bin/sh\necho hello from $(cat /app/name.txt)\n".to_vec(),
        },
        ContextFile {
            path: "app/name.txt".to_string(),
            mode: 0o644,
            contents: b"a test image\n".to_vec(),
        },
    ];
    let steps = Mutex::new(Vec::new());
    build_image_from_files(&docker, &tag, &dockerfile, &files, &|event| {
        steps.lock().unwrap().push(event)
    })
    .await
    .unwrap();
    assert!(steps
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, ImageProgress::Building { step, .. } if step.contains("COPY app/"))));
    let (code, out) = run(&docker, &tag, &["/app/hello.sh"]).await;
    assert_eq!((code, out.trim()), (0, "hello from a test image"));
    docker
        .remove_image(
            &tag,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await
        .unwrap();

    let failing = format!(
        "FROM {}\nRUN [\"sh\", \"-c\", \"echo no such luck >&2; exit 3\"]\n",
        images.exec
    );
    let err = build_image_from_files(&docker, &tag, &failing, &[], &|_| {})
        .await
        .unwrap_err();
    match &err {
        ImageError::BuildFailed { image, message } => {
            assert_eq!(image, &tag);
            assert!(message.contains("returned a non-zero code: 3"), "{message}");
        }
        other => panic!("expected a build failure, got {other}"),
    }
    assert!(err.to_string().contains(&tag), "{err}");
}
