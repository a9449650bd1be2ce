package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/storage"
	"github.com/reviewlens/reviewlens/synth"
)

// score holds the day's predictions and decisions to the truth synth kept
// aside: the model's accuracy on the photos, and how many automatic
// decisions were right.
func (d *run) score(ctx context.Context, day *synth.Day, predictions, decisions, policyURI string) error {
	f, err := os.Open(day.Truth)
	if err != nil {
		return err
	}
	truth, err := synth.ReadTruth(f)
	f.Close()
	if err != nil {
		return err
	}
	classOf := map[string]string{}    // image_uri → true class
	photosOf := map[string][]string{} // review_id → true classes
	for _, t := range truth {
		classOf[t.ImageURI] = t.Class.String()
		photosOf[t.ReviewID] = append(photosOf[t.ReviewID], t.Class.String())
	}

	preds, err := inspect.LoadPredictions(ctx, d.store, "predictions", predictions)
	if err != nil {
		return err
	}
	right, seen := 0, 0
	for _, p := range preds {
		want, ok := classOf[p.ImageURI]
		if !ok {
			return fmt.Errorf("score: prediction of %s: no such photo in %s", p.ImageURI, day.Truth)
		}
		if p.Status != inspect.StatusOK {
			continue
		}
		seen++
		if p.ClassName == want {
			right++
		}
	}
	d.sum.HeldOutAccuracy = ratio(right, seen)

	policy, err := credit.LoadPolicy(ctx, d.store, "policy", policyURI)
	if err != nil {
		return err
	}
	data, err := d.store.ReadFile(ctx, storage.Join(decisions, credit.FileDecisions))
	if err != nil {
		return err
	}
	rows, err := credit.ReadDecisions(ctx, bytes.NewReader(data), credit.FileDecisions)
	if err != nil {
		return err
	}
	qualifying, qualifyingGranted := 0, 0
	for _, r := range rows {
		classes, ok := photosOf[r.ReviewID]
		if !ok {
			return fmt.Errorf("score: decision on %s: no such review in %s", r.ReviewID, day.Truth)
		}
		q := qualifies(policy.ReviewTypes[r.ReviewType], classes)
		if q {
			qualifying++
		}
		switch r.Decision.Decision {
		case credit.Grant:
			d.sum.Grants++
			if q {
				qualifyingGranted++
			} else {
				d.sum.Wrong++
			}
		case credit.Reject:
			d.sum.Rejects++
			if q {
				d.sum.Wrong++
			}
		default:
			d.sum.Manual++
		}
	}
	auto := d.sum.Grants + d.sum.Rejects
	d.sum.AutomationRate = ratio(auto, len(rows))
	d.sum.AutomaticAccuracy = ratio(auto-d.sum.Wrong, auto)
	d.sum.QualifyingGranted = ratio(qualifyingGranted, qualifying)
	return nil
}

// qualifies reports whether a review whose photos truly show classes
// earns the credit of rule.
func qualifies(rule credit.Rule, classes []string) bool {
	n := 0
	for _, c := range classes {
		if slices.Contains(rule.Qualifying, c) {
			n++
		}
	}
	if rule.Require == credit.RequireAll {
		return n == len(classes) && n > 0
	}
	return n > 0
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// setFile records what synth wrote in a folder, so that a second run
// reuses it: the size and seed asked, and what came out.
const setFile = "demo-set.json"

type setRecord[T any] struct {
	N    int   `json:"n"`
	Seed int64 `json:"seed"`
	Set  T     `json:"set"`
}

// readSet reads the record of dir when it was written for n items and
// seed.
func readSet[T any](dir string, n int, seed int64) (*T, bool) {
	data, err := os.ReadFile(filepath.Join(dir, setFile))
	if err != nil {
		return nil, false
	}
	var r setRecord[T]
	if json.Unmarshal(data, &r) != nil || r.N != n || r.Seed != seed {
		return nil, false
	}
	return &r.Set, true
}

func writeSet[T any](dir string, set *T, n int, seed int64) error {
	data, err := json.Marshal(setRecord[T]{N: n, Seed: seed, Set: *set})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, setFile), data, 0o644)
}
