package sagemaker

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Name limits of SageMaker.
const (
	MaxJobNameLen    = 63 // training, transform jobs; models
	MaxTuningNameLen = 32 // hyperparameter tuning jobs
)

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9])*$`)

// ValidRoleARN reports whether arn has the form of an IAM role ARN,
// arn:aws:iam::<12 digits>:role/<name>, as SageMaker's RoleArn and
// ExecutionRoleArn want.
func ValidRoleARN(arn string) bool { return roleARNPattern.MatchString(arn) }

// ValidName reports whether name is a valid job name of at most max
// characters.
func ValidName(name string, max int) bool {
	return len(name) <= max && namePattern.MatchString(name)
}

// JobName builds a deterministic job name: a readable prefix made of the
// given parts, cut to fit, then a hash of key. Names are lower case (tuning
// job names are not case sensitive) and always valid for the pattern and
// the limit. The same parts and key always give the same name; a different
// key gives a different name.
func JobName(max int, key string, parts ...string) string {
	sum := sha256.Sum256([]byte(key))
	hash := hex.EncodeToString(sum[:])[:8]
	var b strings.Builder
	for _, p := range parts {
		p = sanitize(p)
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('-')
		}
		b.WriteString(p)
	}
	prefix := b.String()
	if room := max - len(hash) - 1; len(prefix) > room {
		prefix = strings.TrimRight(prefix[:room], "-")
	}
	if prefix == "" {
		return hash
	}
	return prefix + "-" + hash
}

// sanitize keeps letters and digits, lower case, and turns runs of anything
// else into one hyphen.
func sanitize(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	return b.String()
}

// AttemptName is the name of attempt n (1-based) of a job: the job's name
// for the first, then a "-a<n>" suffix, cut to fit.
func AttemptName(name string, attempt, max int) string {
	if attempt <= 1 {
		return name
	}
	suffix := fmt.Sprintf("-a%d", attempt)
	if len(name)+len(suffix) > max {
		name = strings.TrimRight(name[:max-len(suffix)], "-")
	}
	return name + suffix
}
