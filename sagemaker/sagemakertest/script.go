package sagemakertest

import (
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// State is what DescribeTrainingJob shows for a job at one step of its
// script.
type State struct {
	// Status is the job's status. Empty means InProgress.
	Status types.TrainingJobStatus
	// Secondary is the secondary status. Empty means the one that goes with
	// Status: Training for InProgress, and otherwise the status itself
	// (Completed, Failed, Stopping, Stopped).
	Secondary types.SecondaryStatus
	// FailureReason is reported when Status is Failed. Empty means
	// "AlgorithmError: scripted failure (sagemakertest)".
	FailureReason string
	// Metrics become the FinalMetricDataList when Status is Completed, e.g.
	// {"validation:accuracy": 0.81}. A tuning job's objective is read from
	// them.
	Metrics map[string]float64
	// TrainingSeconds and BillableSeconds are reported when non-zero (real
	// SageMaker omits them for jobs that failed before training).
	TrainingSeconds, BillableSeconds int32
}

// defaultScript is the script of jobs nobody scripted.
var defaultScript = []State{
	{Status: types.TrainingJobStatusInProgress, Secondary: types.SecondaryStatusTraining},
	{
		Status:          types.TrainingJobStatusCompleted,
		Secondary:       types.SecondaryStatusCompleted,
		Metrics:         map[string]float64{"validation:accuracy": 0.5},
		TrainingSeconds: 60,
		BillableSeconds: 60,
	},
}

const defaultFailureReason = "AlgorithmError: scripted failure (sagemakertest)"

// terminal reports whether a job in status s has ended.
func terminal(s types.TrainingJobStatus) bool {
	switch s {
	case types.TrainingJobStatusCompleted, types.TrainingJobStatusFailed, types.TrainingJobStatusStopped:
		return true
	}
	return false
}

// normalize fills in a state's defaults and copies its metrics.
func (s State) normalize() State {
	if s.Status == "" {
		s.Status = types.TrainingJobStatusInProgress
	}
	if s.Secondary == "" {
		switch s.Status {
		case types.TrainingJobStatusInProgress:
			s.Secondary = types.SecondaryStatusTraining
		default:
			s.Secondary = types.SecondaryStatus(s.Status)
		}
	}
	if s.Status == types.TrainingJobStatusFailed && s.FailureReason == "" {
		s.FailureReason = defaultFailureReason
	}
	s.Metrics = maps.Clone(s.Metrics)
	return s
}

// normalizeScript normalizes states and panics, naming method, if one
// follows a terminal state.
func normalizeScript(method string, states []State) []State {
	script := make([]State, len(states))
	for i, s := range states {
		script[i] = s.normalize()
		if i > 0 && terminal(script[i-1].Status) {
			panic(fmt.Sprintf("sagemakertest: %s: state %d (%s) follows terminal state %s",
				method, i, script[i].Status, script[i-1].Status))
		}
	}
	return script
}
