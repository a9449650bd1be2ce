// Package examples holds the tests that keep the repository's deployment
// examples true to the code: the Airflow DAGs and the Argo workflow in
// examples/ (every step and flag they use exists, the DAGs compile, the
// workflow has what Argo needs), the Dockerfile (it builds every binary
// into a small nonroot image, and builds when a Docker engine answers), and
// the least-privilege IAM policies in examples/iam (the pod's policy allows
// exactly the AWS operations the code can call). It has no code of its
// own.
package examples
