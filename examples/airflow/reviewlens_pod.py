"""ReviewlensPodOperator: one reviewlens step in a Kubernetes pod.

Shared by reviewlens_daily.py and reviewlens_weekly.py; copy it into the DAGs
folder beside them. It is a KubernetesPodOperator (apache-airflow-providers-
cncf-kubernetes) with reviewlens's conventions:

- the image is the Airflow Variable ``reviewlens_image`` (the repository's
  Dockerfile builds it), its entrypoint the ``reviewlens`` binary;
- the step writes its result JSON to /airflow/xcom/return.json (give every
  task ``--xcom /airflow/xcom/return.json``) and ``do_xcom_push=True`` makes
  it the task's XCom, so later tasks read URIs and job names from it:
  ``{{ ti.xcom_pull(task_ids='stage')['staged_uri'] }}``;
- the pod runs as the Kubernetes service account ``reviewlens``, which IRSA
  maps to the IAM role of examples/iam/pod-policy.json;
- exit codes mean what they say: Airflow retries only failures that are worth
  a retry (see ``cleanup`` below).

Exit codes of every reviewlens step:

    0   done
    1   failed
    2   bad input or usage (names the flag, file, line or field)
    3   a SageMaker job failed (its failure reason printed)
    4   a job was stopped
    5   the step's own --timeout passed (it stopped its SageMaker job)
    75  a transient error (throttling, network) worth a retry
"""

from __future__ import annotations

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from kubernetes.client import models as k8s

try:  # Airflow 3.1 and later
    from airflow.sdk.exceptions import AirflowFailException
except ImportError:  # Airflow 2
    from airflow.exceptions import AirflowFailException
from airflow.exceptions import AirflowSkipException

#: The image every task runs: set the Airflow Variable reviewlens_image to
#: the image you built and pushed (docker build -t REGISTRY/reviewlens:TAG .).
IMAGE = "{{ var.value.get('reviewlens_image', 'reviewlens:latest') }}"

#: Where a step writes its result for XCom (KubernetesPodOperator mounts an
#: emptyDir there when do_xcom_push=True and reads return.json back).
XCOM = "/airflow/xcom/return.json"

#: Exit codes that no retry will fix: Airflow fails the task at once instead
#: of retrying it. 75 (transient) is retried, and so is a pod that ended
#: without an exit code of reviewlens's own (evicted, OOM-killed: 137, a node
#: that went away).
NO_RETRY = {
    1: "failed",
    2: "bad input or usage",
    3: "a SageMaker job failed",
    4: "a job was stopped",
    5: "the step's own --timeout passed",
}


def base_exit_code(remote_pod, container: str) -> int | None:
    """The exit code of the pod's container named container, if it ended."""
    status = getattr(remote_pod, "status", None)
    for cs in (getattr(status, "container_statuses", None) or []):
        if cs.name == container and cs.state and cs.state.terminated:
            return cs.state.terminated.exit_code
    return None


class ReviewlensPodOperator(KubernetesPodOperator):
    """A reviewlens step in a pod: ``arguments`` starts with the step's name.

    Retries: Airflow retries a failed task ``retries`` times. KubernetesPodOperator
    reports every non-zero exit the same way, so ``cleanup`` (where it raises the
    failure, in both the blocking and the deferrable mode) reads the container's
    exit code and, for a code in NO_RETRY, raises AirflowFailException, which
    Airflow does not retry. The result JSON a failed step wrote is still pushed
    to XCom (KubernetesPodOperator does that before raising).
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("image", IMAGE)
        kwargs.setdefault("cmds", ["reviewlens"])
        kwargs.setdefault("name", "reviewlens-" + kwargs["task_id"].replace("_", "-"))
        kwargs.setdefault("namespace", "reviewlens")
        kwargs.setdefault("service_account_name", "reviewlens")
        kwargs.setdefault("do_xcom_push", True)
        kwargs.setdefault("get_logs", True)
        kwargs.setdefault("log_events_on_failure", True)
        # A retry finds the pod of the try before still running (the
        # worker died, say) and attaches to it rather than starting
        # another; reviewlens would attach to the SageMaker job anyway.
        kwargs.setdefault("reattach_on_restart", True)
        kwargs.setdefault("on_finish_action", "delete_succeeded_pod")
        # On SIGTERM a step stops its SageMaker job and writes its result:
        # give it the time to.
        kwargs.setdefault("termination_grace_period", 60)
        kwargs.setdefault(
            "container_resources",
            k8s.V1ResourceRequirements(
                requests={"cpu": "250m", "memory": "256Mi"},
                limits={"memory": "1Gi"},
            ),
        )
        # The root filesystem is read-only; steps spool their outputs in
        # /tmp before publishing them whole.
        kwargs.setdefault("volumes", [k8s.V1Volume(name="tmp", empty_dir=k8s.V1EmptyDirVolumeSource(size_limit="4Gi"))])
        kwargs.setdefault("volume_mounts", [k8s.V1VolumeMount(name="tmp", mount_path="/tmp")])
        kwargs.setdefault(
            "container_security_context",
            k8s.V1SecurityContext(
                run_as_non_root=True,
                allow_privilege_escalation=False,
                read_only_root_filesystem=True,
                capabilities=k8s.V1Capabilities(drop=["ALL"]),
            ),
        )
        super().__init__(**kwargs)

    def cleanup(self, pod, remote_pod, *args, **kwargs):
        try:
            return super().cleanup(pod, remote_pod, *args, **kwargs)
        except AirflowSkipException:
            raise
        except Exception as err:
            code = base_exit_code(remote_pod, self.base_container_name)
            if code in NO_RETRY:
                raise AirflowFailException(
                    f"reviewlens exited {code} ({NO_RETRY[code]}): not retried\n{err}"
                ) from err
            raise
