//! What Docker is asked to create for a container: image, command environment, labels and the
//! isolation of issue 6 (memory and swap, CPU shares by memory, pids, capabilities,
//! no-new-privileges, nofile, read-only root, network). Pure: no Docker calls, unit-tested.

use std::collections::HashMap;

use bollard::models::{ContainerCreateBody, HostConfig, HostConfigLogConfig, ResourcesUlimits};

use crate::docker::config::DockerDriverConfig;
use crate::driver::{ContainerSpec, NetworkAccess};

/// Where the per-container host directory is mounted inside the container.
pub(crate) const WHIRL_DIR: &str = "/.whirl";

/// The launcher's socket inside the container.
pub(crate) const ACTIONLOOP_SOCKET: &str = "/.whirl/actionloop.sock";

/// The bridge network of containers with egress (no container-to-container traffic), unless
/// Docker's default bridge already has inter-container traffic off (`dockerd --icc=false`).
pub(crate) const EGRESS_NETWORK: &str = "whirl-egress";

/// Docker's default bridge network.
pub(crate) const DEFAULT_BRIDGE: &str = "bridge";

/// The internal network of blackbox containers without egress: only the host reaches them.
pub(crate) const ISOLATED_NETWORK: &str = "whirl-isolated";

/// How the driver talks to what runs in the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// Whirl's launchers, over a unix socket in the bind-mounted directory.
    ActionLoop,
    /// An image serving OpenWhisk's `/init` and `/run` on port 8080.
    OpenWhiskHttp,
    /// A command run per request with `docker exec` (the `exec` kind, OpenFaaS `fprocess` images).
    Exec,
}

/// Where a container goes and how the driver reaches it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placement<'a> {
    pub protocol: Protocol,
    /// The image tag to run.
    pub image: &'a str,
    /// The host directory mounted at [`WHIRL_DIR`].
    pub host_dir: &'a str,
    /// The network of containers with egress ([`EGRESS_NETWORK`] or [`DEFAULT_BRIDGE`]).
    pub egress: &'a str,
}

/// The network a container joins.
pub(crate) fn network_mode(protocol: Protocol, network: NetworkAccess, egress: &str) -> &str {
    match (network, protocol) {
        (NetworkAccess::Egress, _) => egress,
        // The invoker must reach port 8080: an internal network, no route out.
        (NetworkAccess::None, Protocol::OpenWhiskHttp) => ISOLATED_NETWORK,
        (NetworkAccess::None, _) => "none",
    }
}

/// CPU shares proportional to memory: 256 MB gets Docker's default weight of 1024.
pub(crate) fn cpu_shares(memory_mb: u32) -> i64 {
    (i64::from(memory_mb) * 4).max(2)
}

/// The create body for `spec` placed as `placement` says, with `env` as the container's
/// environment.
pub(crate) fn create_body(
    config: &DockerDriverConfig,
    spec: &ContainerSpec,
    placement: Placement<'_>,
    env: Vec<String>,
    labels: HashMap<String, String>,
) -> ContainerCreateBody {
    let Placement {
        protocol,
        image,
        host_dir,
        egress,
    } = placement;
    let memory = i64::from(spec.memory_mb) * 1024 * 1024;
    let read_only = spec.isolation.read_only_root;
    let mut tmpfs = HashMap::new();
    if read_only {
        tmpfs.insert(
            "/tmp".to_owned(),
            format!("rw,nosuid,nodev,size={}m", config.tmpfs_mb),
        );
    }
    let host_config = HostConfig {
        memory: Some(memory),
        // Swap equal to memory: the limit is memory + swap, so no swap at all.
        memory_swap: Some(memory),
        cpu_shares: Some(cpu_shares(spec.memory_mb)),
        pids_limit: Some(config.pids_limit),
        cap_drop: Some(vec!["ALL".to_owned()]),
        security_opt: Some(vec!["no-new-privileges".to_owned()]),
        ulimits: Some(vec![ResourcesUlimits {
            name: Some("nofile".to_owned()),
            soft: Some(config.nofile),
            hard: Some(config.nofile),
        }]),
        readonly_rootfs: Some(read_only),
        tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
        network_mode: Some(network_mode(protocol, config.network_of(spec), egress).to_owned()),
        binds: Some(vec![format!("{host_dir}:{WHIRL_DIR}:rw")]),
        // Reaps what `docker exec` leaves behind and forwards signals.
        init: Some(protocol == Protocol::Exec),
        log_config: Some(HostConfigLogConfig {
            typ: Some("json-file".to_owned()),
            config: Some(HashMap::from([
                ("max-size".to_owned(), "1m".to_owned()),
                ("max-file".to_owned(), "1".to_owned()),
            ])),
        }),
        ..Default::default()
    };
    ContainerCreateBody {
        image: Some(image.to_owned()),
        env: Some(env),
        labels: Some(labels),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(false),
        open_stdin: Some(false),
        host_config: Some(host_config),
        ..Default::default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::driver::{Isolation, NetworkAccess};
    use crate::kind::RuntimeKind;

    fn body(isolation: Isolation, protocol: Protocol) -> ContainerCreateBody {
        let config = DockerDriverConfig::new("/tmp/x".into(), "whirl", "invoker0");
        let spec = ContainerSpec {
            isolation,
            ..ContainerSpec::runtime(RuntimeKind::Python3, 256)
        };
        let placement = Placement {
            protocol,
            image: "img:1",
            host_dir: "/host/dir",
            egress: EGRESS_NETWORK,
        };
        create_body(
            &config,
            &spec,
            placement,
            vec!["A=1".into()],
            HashMap::from([("whirl.instance".into(), "whirl".into())]),
        )
    }

    #[test]
    fn memory_swap_cpu_and_limits_follow_the_action() {
        let host = body(Isolation::default(), Protocol::ActionLoop)
            .host_config
            .unwrap();
        assert_eq!(host.memory, Some(256 * 1024 * 1024));
        assert_eq!(host.memory_swap, host.memory, "no swap beyond memory");
        assert_eq!(host.cpu_shares, Some(1024));
        assert_eq!(host.pids_limit, Some(1024));
        assert_eq!(host.cap_drop, Some(vec!["ALL".to_owned()]));
        assert_eq!(
            host.security_opt,
            Some(vec!["no-new-privileges".to_owned()])
        );
        let nofile = &host.ulimits.unwrap()[0];
        assert_eq!(nofile.name.as_deref(), Some("nofile"));
        assert_eq!((nofile.soft, nofile.hard), (Some(1024), Some(1024)));
        assert_eq!(host.readonly_rootfs, Some(false));
        assert_eq!(host.tmpfs, None);
        assert_eq!(host.binds, Some(vec!["/host/dir:/.whirl:rw".to_owned()]));
        assert_eq!(host.network_mode.as_deref(), Some(EGRESS_NETWORK));
    }

    #[test]
    fn read_only_root_keeps_a_writable_tmp() {
        let isolation = Isolation {
            read_only_root: true,
            ..Isolation::default()
        };
        let host = body(isolation, Protocol::ActionLoop).host_config.unwrap();
        assert_eq!(host.readonly_rootfs, Some(true));
        assert!(host.tmpfs.unwrap()["/tmp"].contains("size=64m"));
    }

    #[test]
    fn no_network_means_none_except_where_the_invoker_must_reach_port_8080() {
        let none = Isolation {
            network: Some(NetworkAccess::None),
            ..Isolation::default()
        };
        let mode = |protocol| {
            body(none, protocol)
                .host_config
                .unwrap()
                .network_mode
                .unwrap()
        };
        assert_eq!(mode(Protocol::ActionLoop), "none");
        assert_eq!(mode(Protocol::Exec), "none");
        assert_eq!(mode(Protocol::OpenWhiskHttp), ISOLATED_NETWORK);
    }

    #[test]
    fn the_driver_default_applies_only_where_the_action_did_not_choose() {
        let mut config = DockerDriverConfig::new("/tmp/x".into(), "whirl", "invoker0");
        config.default_network = NetworkAccess::None;
        let spec = |network| ContainerSpec {
            isolation: Isolation {
                network,
                read_only_root: false,
            },
            ..ContainerSpec::runtime(RuntimeKind::Python3, 256)
        };
        assert_eq!(config.network_of(&spec(None)), NetworkAccess::None);
        assert_eq!(
            config.network_of(&spec(Some(NetworkAccess::Egress))),
            NetworkAccess::Egress,
            "an explicit bridge wins over a default of none"
        );
    }

    #[test]
    fn cpu_shares_grow_with_memory() {
        assert_eq!(cpu_shares(128), 512);
        assert_eq!(cpu_shares(512), 2048);
        assert_eq!(cpu_shares(0), 2);
    }
}
