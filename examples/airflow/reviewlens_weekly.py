"""reviewlens_weekly: retrain the classifier on the week's labels.

    labels -> manifest -> tune -> promote

labels adds the week's new labels to the labelling team's Ground Truth output
manifest (or the consolidate step's): the photos inspectors classified in the
inspection queue from the ledger, after the base manifest's own lines (the
audits' photos stay out of training, for calibration); manifest turns that
into the training inputs; tune trains SageMaker's built-in
image classifier on a grid of hyperparameters and writes runs.parquet, one row
a training job, the best marked. promote then points the Airflow Variable
reviewlens_runs at that runs.parquet: the daily DAG's transform reads it
(--model-from-runs {{ var.value.reviewlens_runs }}) and creates the best
run's model. A week whose tuning fails leaves the Variable, and so the daily
model, as it was.

The class list is pinned (s3://BUCKET/reviewlens/config/classes.json, a Ground
Truth label-category config), so that every week's model numbers the classes
as the daily predictions step reads them.

Retries as in the daily DAG (reviewlens_pod.py). tune attaches to the jobs of an
earlier try rather than starting them again, so a retried tune costs nothing
twice.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.cncf.kubernetes.secret import Secret

try:  # Airflow 3
    from airflow.sdk import DAG, Variable, task
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.decorators import task
    from airflow.models import Variable

from reviewlens_pod import XCOM, ReviewlensPodOperator

DATA = "s3://{{ params.bucket }}"
DAY = "dt={{ ds }}"

with DAG(
    dag_id="reviewlens_weekly",
    description="Retrain the review-photo classifier and promote the best model",
    schedule="0 6 * * 1",
    start_date=pendulum.datetime(2026, 11, 2, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=30),
    params={
        "bucket": "reviewlens-data",
        "role_arn": "arn:aws:iam::111122223333:role/reviewlens-sagemaker",
    },
    default_args={
        "owner": "reviewlens",
        "retries": 3,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(hours=1),
    },
    tags=["reviewlens"],
) as dag:
    labels = ReviewlensPodOperator(
        task_id="labels",
        execution_timeout=timedelta(minutes=30),
        # The ledger's DSN, as in the daily DAG's publish task.
        secrets=[Secret("env", "REVIEWLENS_DB", "reviewlens-ledger", "dsn")],
        arguments=[
            "labels",
            "--since", "{{ macros.ds_add(ds, -7) }}",
            "--until", "{{ macros.ds_add(ds, -1) }}",
            "--base-manifest", DATA + "/gt/output.manifest",
            "--label-attribute", "review-photo-category",
            "--classes", DATA + "/reviewlens/config/classes.json",
            "--out", DATA + "/reviewlens/retrain/" + DAY + "/",
            "--timeout", "25m",
            "--xcom", XCOM,
        ],
    )

    manifest = ReviewlensPodOperator(
        task_id="manifest",
        execution_timeout=timedelta(hours=1),
        arguments=[
            "manifest",
            "--in", "{{ ti.xcom_pull(task_ids='labels')['manifest'] }}",
            "--out", DATA + "/reviewlens/labels/" + DAY + "/",
            "--classes", DATA + "/reviewlens/config/classes.json",
            "--validation-fraction", "0.2",
            "--on-bad-line", "skip",
            "--timeout", "50m",
            "--xcom", XCOM,
        ],
    )

    tune = ReviewlensPodOperator(
        task_id="tune",
        execution_timeout=timedelta(hours=26),
        arguments=[
            "tune",
            "--train", "{{ ti.xcom_pull(task_ids='manifest')['outputs']['train_manifest'] }}",
            "--validation", "{{ ti.xcom_pull(task_ids='manifest')['outputs']['validation_manifest'] }}",
            "--grid", "num_layers=18,34,50",
            "--grid", "learning_rate=0.001,0.01",
            "--set", "use_pretrained_model=1",
            "--set", "epochs=15",
            "--role-arn", "{{ params.role_arn }}",
            "--output", DATA + "/reviewlens/models/",
            "--runs", DATA + "/reviewlens/tune/" + DAY + "/runs.parquet",
            "--report", DATA + "/reviewlens/tune/" + DAY + "/report.html",
            "--instance-type", "ml.p3.2xlarge",
            "--max-parallel", "3",
            "--spot",
            "--checkpoint-uri", DATA + "/reviewlens/checkpoints/",
            "--tag", "project=reviewlens",
            # The training jobs' logs (CloudWatch), epochs and accuracy, in
            # the task's log while they run.
            "--logs",
            "--poll-interval", "2m",
            "--timeout", "25h",
            "--xcom", XCOM,
        ],
    )

    @task
    def promote(ti=None) -> str:
        """Point the daily DAG at the week's runs.parquet (reviewlens_runs)."""
        runs = ti.xcom_pull(task_ids="tune")["runs"]
        Variable.set("reviewlens_runs", runs)
        return runs

    labels >> manifest >> tune >> promote()
