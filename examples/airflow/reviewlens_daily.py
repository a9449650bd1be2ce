"""reviewlens_daily: inspect one day's review photos and grant the credits.

    stage -> transform -> predictions -> credit -> publish

One KubernetesPodOperator task per step (ReviewlensPodOperator, in
reviewlens_pod.py). Each step writes its result JSON to
/airflow/xcom/return.json (--xcom), which becomes the task's XCom; the next
steps take the URIs and job names from it rather than recomputing them:

    stage        staged_uri            -> transform --staged, predictions --staged
    transform    output, job, model    -> predictions --outputs, --transform-job, --model
    predictions  predictions           -> credit --predictions
    credit       decisions             -> publish --decisions

The day is {{ ds }}. The schedule is a data-interval one (a cron expression on
Airflow 2; CronDataIntervalTimetable on Airflow 3, whose plain cron strings
trigger at the start of the day instead), so the run for day D starts at 03:00
UTC on D+1, when D's reviews are exported, and {{ ds }} is D. A backfill or a
rerun of a day is safe: every step resumes or skips work already done, and the
ledger grants each credit once.

The model is the one the weekly retraining DAG (reviewlens_weekly.py) chose:
the Airflow Variable reviewlens_runs names its runs.parquet, whose best run
transform uses.

Retries (see reviewlens_pod.py): exit 75 (throttling, network) and pods that
died are retried with backoff; 1 to 5 (bad input, a failed or stopped job, the
step's own timeout) fail the task at once. Each step's --timeout is shorter
than the task's execution_timeout, so that on a timeout the step stops its
SageMaker job and writes its result itself (exit 5) before Airflow would kill
the pod.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.cncf.kubernetes.secret import Secret
from airflow.timetables.interval import CronDataIntervalTimetable

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

from reviewlens_pod import XCOM, ReviewlensPodOperator

# Where the day's data lives; the DAG's params, so that a manual run can
# change them. See examples/iam for the permissions on these buckets.
DATA = "s3://{{ params.bucket }}"
DAY = "dt={{ ds }}"

with DAG(
    dag_id="reviewlens_daily",
    description="Inspect a day's review photos on SageMaker and grant the credits",
    schedule=CronDataIntervalTimetable("0 3 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=8),
    params={"bucket": "reviewlens-data"},
    default_args={
        "owner": "reviewlens",
        "retries": 3,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
    },
    tags=["reviewlens"],
) as dag:
    stage = ReviewlensPodOperator(
        task_id="stage",
        execution_timeout=timedelta(minutes=45),
        arguments=[
            "stage",
            "--day", "{{ ds }}",
            "--reviews", DATA + "/reviews/" + DAY + "/reviews.parquet",
            "--out", DATA + "/reviewlens/staged/" + DAY + "/",
            "--input-prefix", DATA + "/reviewlens/input/",
            # A bad row or photo goes to rejected.jsonl instead of stopping
            # the day; the result counts them by reason.
            "--on-bad-row", "skip",
            "--allow-empty",
            "--timeout", "40m",
            "--xcom", XCOM,
        ],
    )

    transform = ReviewlensPodOperator(
        task_id="transform",
        execution_timeout=timedelta(hours=4, minutes=15),
        arguments=[
            "transform",
            "--staged", "{{ ti.xcom_pull(task_ids='stage')['staged_uri'] }}",
            "--model-from-runs", "{{ var.value.reviewlens_runs }}",
            "--output", DATA + "/reviewlens/predictions/" + DAY + "/",
            "--instance-type", "ml.m5.xlarge",
            "--instance-count", "2",
            # The job's log (CloudWatch) in the task's log, while it runs.
            "--logs",
            "--poll-interval", "1m",
            "--timeout", "4h",
            "--xcom", XCOM,
        ],
    )

    predictions = ReviewlensPodOperator(
        task_id="predictions",
        execution_timeout=timedelta(minutes=45),
        arguments=[
            "predictions",
            "--staged", "{{ ti.xcom_pull(task_ids='stage')['staged_uri'] }}",
            "--outputs", "{{ ti.xcom_pull(task_ids='transform')['output'] }}",
            "--classes", DATA + "/reviewlens/config/classes.json",
            "--out", DATA + "/reviewlens/predictions-table/" + DAY + "/",
            "--model", "{{ ti.xcom_pull(task_ids='transform')['model'] }}",
            "--transform-job", "{{ ti.xcom_pull(task_ids='transform')['job'] }}",
            # A photo without a usable prediction sends its review to a
            # person (credit); it does not stop the day.
            "--allow-incomplete",
            "--timeout", "40m",
            "--xcom", XCOM,
        ],
    )

    credit = ReviewlensPodOperator(
        task_id="credit",
        execution_timeout=timedelta(minutes=30),
        arguments=[
            "credit",
            "--predictions", "{{ ti.xcom_pull(task_ids='predictions')['predictions'] }}",
            "--reviews", DATA + "/reviews/" + DAY + "/reviews.parquet",
            "--policy", DATA + "/reviewlens/config/policy.yaml",
            "--out", DATA + "/reviewlens/decisions/" + DAY + "/",
            "--report", DATA + "/reviewlens/decisions/" + DAY + "/report.html",
            "--on-bad-row", "skip",
            "--allow-empty",
            "--timeout", "25m",
            "--xcom", XCOM,
        ],
    )

    publish = ReviewlensPodOperator(
        task_id="publish",
        execution_timeout=timedelta(minutes=30),
        # The ledger's DSN comes from the Kubernetes secret reviewlens-ledger
        # (key dsn) as REVIEWLENS_DB, the environment variable of --db: it
        # never appears in the DAG, the task's arguments or its log.
        secrets=[Secret("env", "REVIEWLENS_DB", "reviewlens-ledger", "dsn")],
        arguments=[
            "publish",
            "--decisions", "{{ ti.xcom_pull(task_ids='credit')['decisions'] }}",
            "--timeout", "25m",
            "--xcom", XCOM,
        ],
    )

    stage >> transform >> predictions >> credit >> publish
