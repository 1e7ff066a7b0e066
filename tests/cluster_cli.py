"""Whether kubectl, Helm and the Argo Rollouts plugin would accept a command line.

kubectl itself parses (a current real binary, against a kubeconfig whose server nothing
listens on: a command passes when the one error left is the refused connection). The Argo
Rollouts plugin and Helm are not run (the plugin is not installed, the Helm v4 SDK has no
command line): their commands are checked against the subcommands, flags and argument
counts of their cobra definitions, transcribed below with the source.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from doc_commands import Command

UNREACHABLE = "127.0.0.1:1"
KUBECONFIG = f"""apiVersion: v1
kind: Config
clusters:
  - name: nowhere
    cluster: {{server: "https://{UNREACHABLE}"}}
contexts:
  - name: nowhere
    context: {{cluster: nowhere, user: nobody, namespace: default}}
current-context: nowhere
users:
  - name: nobody
    user: {{token: not-a-token}}
"""
# What kubectl prints when it got as far as talking to the server.
CONNECTION_REFUSED = re.compile(
    rf"^(The connection to the server {re.escape(UNREACHABLE)} was refused"
    r"|Unable to connect to the server|error: .*connect: connection refused)"
)
KLOG_LINE = re.compile(r"^[IWE]\d{4} ")


@dataclass
class KubectlParser:
    """A real kubectl that cannot reach a cluster: it parses and validates, then fails to connect."""

    binary: str
    home: Path

    def errors(self, argv: tuple[str, ...]) -> list[str]:
        """Why kubectl rejects `argv` (kubectl's own words), or [] when it only failed to connect."""
        env = {
            **os.environ,
            "HOME": str(self.home),
            "KUBECONFIG": str(self.home / "config"),
            "PATH": str(self.home),  # no kubectl plugin of this machine answers
        }
        result = subprocess.run(
            [self.binary, *argv[1:]],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
        if result.returncode == 0:
            return []
        lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        left = [line for line in lines if not KLOG_LINE.match(line)]
        if left and all(CONNECTION_REFUSED.match(line) for line in left):
            return []
        return left or lines


@dataclass
class Cli:
    """One cobra command: its flags (name -> takes a value), shorthands, subcommands, arguments."""

    flags: dict[str, bool] = field(default_factory=dict)
    shorthands: dict[str, str] = field(default_factory=dict)
    subcommands: dict[str, Cli] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    args: tuple[int, int] = (0, 0)

    def child(self, word: str) -> Cli | None:
        for name, sub in self.subcommands.items():
            if word == name or word in sub.aliases:
                return sub
        return None


def parse_errors(root: Cli, words: list[str]) -> list[str]:
    """What cobra would reject in `words` (the arguments after the program): unknown
    subcommands and flags, a missing flag value, a wrong number of arguments."""
    path = [root]
    flags: dict[str, bool] = dict(root.flags)
    shorthands = dict(root.shorthands)
    positional: list[str] = []
    errors: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "--":
            positional += words[i:]
            break
        if word.startswith("--"):
            name, has_value, _ = word[2:].partition("=")
        elif word.startswith("-") and len(word) > 1:
            name, has_value = shorthands.get(word[1], f"-{word[1]}"), bool(word[2:])
        else:
            sub = path[-1].child(word) if not positional else None
            if sub is not None:
                path.append(sub)
                flags.update(sub.flags)
                shorthands.update(sub.shorthands)
            elif path[-1].subcommands and not positional:
                errors.append(f"unknown command {word!r}")
            else:
                positional.append(word)
            continue
        if name not in flags:
            errors.append(f"unknown flag {word!r}")
        elif flags[name] and not has_value:
            if i >= len(words):
                errors.append(f"flag {word!r} needs a value")
            i += 1
    low, high = path[-1].args
    if path[-1].subcommands and len(path) == 1:
        errors.append("no subcommand")
    elif not low <= len(positional) <= high:
        errors.append(f"takes {low} to {high} arguments, got {positional}")
    return errors


def _words(text: str) -> list[str]:
    return text.split()


def _kube_config_flags() -> tuple[dict[str, bool], dict[str, str]]:
    """k8s.io/cli-runtime's ConfigFlags (genericclioptions.NewConfigFlags(true)): the
    connection flags kubectl plugins built on it take."""
    names = _words(
        "kubeconfig cache-dir certificate-authority client-certificate client-key token as "
        "as-group as-uid username password cluster user namespace context server "
        "tls-server-name request-timeout"
    )
    flags = dict.fromkeys(names, True) | {"insecure-skip-tls-verify": False, "disable-compression": False}
    return flags, {"n": "namespace", "s": "server"}


def _argo_rollouts() -> Cli:
    """`kubectl argo rollouts` as defined in argoproj/argo-rollouts
    pkg/kubectl-argo-rollouts/cmd/ (read at commit 9f8d111d8f8e3e88b6d7f8bbdf62fd3cd863ef9d;
    documented at https://argoproj.github.io/argo-rollouts/generated/kubectl-argo-rollouts/).
    Subcommands a runbook may need; add one from its source when a document uses it."""
    flags, shorthands = _kube_config_flags()
    flags |= {"kloglevel": True, "loglevel": True}
    shorthands |= {"v": "kloglevel"}
    named = (1, 1)
    rollout_or_experiment = {
        "rollout": Cli(aliases=("ro", "rollouts"), args=named),
        "experiment": Cli(aliases=("exp", "experiments"), args=named),
    }
    return Cli(
        flags=flags,
        shorthands=shorthands,
        subcommands={
            "abort": Cli(args=(1, 99)),
            "pause": Cli(args=(1, 99)),
            "promote": Cli(
                flags={"full": False, "skip-current-step": False, "skip-all-steps": False},
                shorthands={"c": "skip-current-step", "a": "skip-all-steps"},
                args=named,
            ),
            "retry": Cli(subcommands=rollout_or_experiment),
            "restart": Cli(flags={"in": True}, shorthands={"i": "in"}, args=named),
            "undo": Cli(flags={"to-revision": True}, args=named),
            "status": Cli(
                flags={"watch": False, "timeout": True}, shorthands={"w": "watch", "t": "timeout"}, args=named
            ),
            "get": Cli(
                subcommands={
                    "rollout": Cli(
                        aliases=("ro", "rollouts"),
                        flags={"watch": False, "no-color": False, "timeout-seconds": True},
                        shorthands={"w": "watch"},
                        args=named,
                    ),
                    "experiment": Cli(
                        aliases=("exp", "experiments"),
                        flags={"watch": False, "no-color": False},
                        shorthands={"w": "watch"},
                        args=named,
                    ),
                }
            ),
            "list": Cli(
                subcommands={
                    "rollouts": Cli(
                        aliases=("ro", "rollout"),
                        flags={"name": True, "all-namespaces": False, "watch": False, "timestamps": False},
                        shorthands={"A": "all-namespaces", "w": "watch"},
                    ),
                }
            ),
            "set": Cli(subcommands={"image": Cli(args=(2, 2))}),
        },
    )


def _helm() -> Cli:
    """Helm v4's `history`, `rollback`, `upgrade` and `install` as defined in helm/helm
    pkg/cmd/{history,rollback,upgrade,install,flags,helpers}.go and pkg/cli/environment.go
    (read at commit e9b85e4de16ad45805843fb121748018cf89094b, v4.2 line). Deprecated flags
    (`--atomic`, `--force`) are still accepted, as Helm 3 and 4 both take them."""
    global_flags = dict.fromkeys(
        _words(
            "namespace kubeconfig kube-context kube-token kube-as-user kube-as-group kube-apiserver "
            "kube-ca-file kube-tls-server-name registry-config repository-config repository-cache "
            "content-cache burst-limit qps color colour"
        ),
        True,
    ) | {"kube-insecure-skip-tls-verify": False, "debug": False}
    wait = {"wait": False, "wait-for-jobs": False, "timeout": True}  # --wait's value only as --wait=STRATEGY
    values = dict.fromkeys(("values", "set", "set-string", "set-file", "set-json", "set-literal"), True)
    chart_path = dict.fromkeys(
        ("version", "keyring", "repo", "username", "password", "cert-file", "key-file", "ca-file"), True
    ) | dict.fromkeys(("verify", "insecure-skip-tls-verify", "plain-http", "pass-credentials"), False)
    release_change = (
        wait
        | values
        | chart_path
        | dict.fromkeys(
            _words(
                "create-namespace devel hide-secret force-replace force force-conflicts no-hooks "
                "disable-openapi-validation skip-crds rollback-on-failure atomic cleanup-on-fail "
                "render-subchart-notes hide-notes skip-schema-validation dependency-update enable-dns "
                "take-ownership dry-run"
            ),
            False,
        )
        | dict.fromkeys(_words("server-side history-max labels description output post-renderer"), True)
    )
    return Cli(
        flags=global_flags,
        shorthands={"n": "namespace"},
        subcommands={
            "history": Cli(
                aliases=("hist",),
                flags={"max": True, "show-rollback-revision": False, "output": True},
                shorthands={"o": "output"},
                args=(1, 1),
            ),
            "rollback": Cli(
                flags=wait
                | dict.fromkeys(("description", "server-side", "history-max"), True)
                | dict.fromkeys(
                    _words("force-replace force force-conflicts no-hooks cleanup-on-fail dry-run"), False
                ),
                args=(1, 2),
            ),
            "upgrade": Cli(
                flags=release_change
                | dict.fromkeys(_words("install reset-values reuse-values reset-then-reuse-values"), False),
                shorthands={"i": "install", "f": "values", "o": "output", "l": "labels"},
                args=(2, 2),
            ),
            "install": Cli(
                flags=release_change | {"generate-name": False, "name-template": True, "replace": False},
                shorthands={"f": "values", "o": "output", "l": "labels", "g": "generate-name"},
                args=(1, 2),
            ),
        },
    )


ARGO_ROLLOUTS = _argo_rollouts()
HELM = _helm()


def _written_out(command: Command) -> list[str]:
    """A command must be complete: no `...` elision, no unknown placeholder left."""
    problems = []
    for word in command.argv:
        if "..." in word:
            problems.append(f"{word!r} elides an argument: write a placeholder (doc_commands.PLACEHOLDERS)")
        if re.search(r"\$\{?\w+|<[\w-]+>", word):
            problems.append(f"{word!r} has a placeholder doc_commands.PLACEHOLDERS does not know")
    return problems


def command_errors(command: Command, kubectl: KubectlParser) -> list[str]:
    """Why the tool of `command` would reject it, [] when it accepts it."""
    argv = command.argv
    problems = _written_out(command)
    if argv[:3] == ("kubectl", "argo", "rollouts"):
        return problems + parse_errors(ARGO_ROLLOUTS, list(argv[3:]))
    if argv[0] == "helm":
        return problems + parse_errors(HELM, list(argv[1:]))
    return problems + kubectl.errors(argv)
