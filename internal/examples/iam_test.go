package examples_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/reviewlens/reviewlens/sagemaker"
)

const module = "github.com/reviewlens/reviewlens"

// blobOps are the S3 operations each method of Go Cloud's *blob.Bucket
// makes through s3blob (gocloud.dev v0.49, read from its source: writes go
// through the SDK's transfermanager, a Delete looks the object up first).
// Methods without I/O map to nothing. A method the code calls that is not
// here fails the test: read s3blob and add it.
var blobOps = map[string][]string{
	"NewReader":      {"s3:GetObject"},
	"NewRangeReader": {"s3:GetObject"},
	"ReadAll":        {"s3:GetObject"},
	"Download":       {"s3:GetObject"},
	"Attributes":     {"s3:HeadObject"},
	"Exists":         {"s3:HeadObject"},
	"List":           {"s3:ListObjectsV2"},
	"ListPage":       {"s3:ListObjectsV2"},
	"NewWriter":      writeOps,
	"WriteAll":       writeOps,
	"Upload":         writeOps,
	"Copy":           {"s3:CopyObject"},
	"Delete":         {"s3:HeadObject", "s3:DeleteObject"},
	"IsAccessible":   {"s3:HeadBucket"},
	"Close":          nil,
	"As":             nil,
	"ErrorAs":        nil,
}

// writeOps: a blob writer uploads small objects with PutObject and large
// ones in parts, aborting the upload when the write fails.
var writeOps = []string{"s3:PutObject", "s3:CreateMultipartUpload", "s3:UploadPart", "s3:CompleteMultipartUpload", "s3:AbortMultipartUpload"}

// iamActions are the IAM actions each SDK operation needs (service:Operation
// by the SDK's package name). Creating what takes a role passes it
// (iam:PassRole); creating with tags needs sagemaker:AddTags.
var iamActions = map[string][]string{
	"s3:GetObject":               {"s3:GetObject"},
	"s3:HeadObject":              {"s3:GetObject"},
	"s3:ListObjectsV2":           {"s3:ListBucket"},
	"s3:HeadBucket":              {"s3:ListBucket"},
	"s3:PutObject":               {"s3:PutObject"},
	"s3:CreateMultipartUpload":   {"s3:PutObject"},
	"s3:UploadPart":              {"s3:PutObject"},
	"s3:CompleteMultipartUpload": {"s3:PutObject"},
	"s3:AbortMultipartUpload":    {"s3:AbortMultipartUpload"},
	"s3:CopyObject":              {"s3:GetObject", "s3:PutObject"},
	"s3:DeleteObject":            {"s3:DeleteObject"},

	"sagemaker:CreateTrainingJob":                          {"sagemaker:CreateTrainingJob", "sagemaker:AddTags", "iam:PassRole"},
	"sagemaker:DescribeTrainingJob":                        {"sagemaker:DescribeTrainingJob"},
	"sagemaker:StopTrainingJob":                            {"sagemaker:StopTrainingJob"},
	"sagemaker:CreateHyperParameterTuningJob":              {"sagemaker:CreateHyperParameterTuningJob", "sagemaker:AddTags", "iam:PassRole"},
	"sagemaker:DescribeHyperParameterTuningJob":            {"sagemaker:DescribeHyperParameterTuningJob"},
	"sagemaker:StopHyperParameterTuningJob":                {"sagemaker:StopHyperParameterTuningJob"},
	"sagemaker:ListTrainingJobsForHyperParameterTuningJob": {"sagemaker:ListTrainingJobsForHyperParameterTuningJob"},
	"sagemaker:CreateModel":                                {"sagemaker:CreateModel", "sagemaker:AddTags", "iam:PassRole"},
	"sagemaker:DescribeModel":                              {"sagemaker:DescribeModel"},
	"sagemaker:CreateTransformJob":                         {"sagemaker:CreateTransformJob", "sagemaker:AddTags"},
	"sagemaker:DescribeTransformJob":                       {"sagemaker:DescribeTransformJob"},
	"sagemaker:StopTransformJob":                           {"sagemaker:StopTransformJob"},

	"cloudwatchlogs:DescribeLogStreams": {"logs:DescribeLogStreams"},
	"cloudwatchlogs:GetLogEvents":       {"logs:GetLogEvents"},
}

// goPackage is what `go list -json` says of a package.
type goPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Export     string
	Module     *struct{ Path string }
	Error      *struct{ Err string }
}

// sdkCalls type-checks the packages the binaries are built from (cmd/...
// and their dependencies in this module; tests and test helpers are not
// in them) and returns every AWS operation they can call, as
// service:Operation, with where it is called from:
//
//   - a method of an SDK service client (*s3.Client, ...);
//   - a method of an interface that declares SDK operations
//     (sagemaker.API, sagemaker.CloudWatchLogsAPI): its input is
//     *<service>.<Method>Input;
//   - an SDK paginator's constructor, New<Operation>Paginator;
//   - a method of Go Cloud's *blob.Bucket, through blobOps.
//
// Calls the test cannot map (a waiter, a feature/ package of the SDK, a
// blob method blobOps lacks) are errors.
func sdkCalls(t *testing.T) map[string][]string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the go command that runs the tests is not on PATH: cannot list the packages")
	}
	cmd := exec.Command(goCmd, "list", "-deps", "-export", "-json=ImportPath,Dir,GoFiles,Export,Module,Error", "./cmd/...")
	cmd.Dir = root(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	exports := map[string]string{}
	var ours []goPackage
	for dec := json.NewDecoder(bytes.NewReader(out)); ; {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if p.Error != nil {
			t.Fatalf("go list %s: %s", p.ImportPath, p.Error.Err)
		}
		exports[p.ImportPath] = p.Export
		if p.Module != nil && p.Module.Path == module {
			ours = append(ours, p)
		}
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := exports[path]
		if !ok || f == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	})
	calls := map[string][]string{}
	add := func(op string, pos token.Pos) {
		p := fset.Position(pos)
		rel, _ := filepath.Rel(root(t), p.Filename)
		calls[op] = append(calls[op], fmt.Sprintf("%s:%d", rel, p.Line))
	}
	for _, p := range ours {
		var files []*ast.File
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		info := &types.Info{Selections: map[*ast.SelectorExpr]*types.Selection{}, Uses: map[*ast.Ident]types.Object{}}
		conf := types.Config{Importer: imp}
		if _, err := conf.Check(p.ImportPath, fset, files, info); err != nil {
			t.Fatalf("type-check %s: %v", p.ImportPath, err)
		}
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if s := info.Selections[sel]; s != nil && s.Kind() == types.MethodVal {
					for _, op := range methodOps(t, s, fset.Position(sel.Pos())) {
						add(op, sel.Pos())
					}
				} else if fn, ok := info.Uses[sel.Sel].(*types.Func); ok && fn.Pkg() != nil {
					if op := funcOp(t, fn, fset.Position(sel.Pos())); op != "" {
						add(op, sel.Pos())
					}
				}
				return true
			})
		}
	}
	return calls
}

const sdkServices = "github.com/aws/aws-sdk-go-v2/service/"

// methodOps returns the AWS operations a method call makes.
func methodOps(t *testing.T, s *types.Selection, pos token.Position) []string {
	recv := s.Recv()
	if p, ok := recv.(*types.Pointer); ok {
		recv = p.Elem()
	}
	fn := s.Obj().(*types.Func)
	if named, ok := recv.(*types.Named); ok && named.Obj().Pkg() != nil {
		pkg, name := named.Obj().Pkg().Path(), named.Obj().Name()
		switch {
		case pkg == "gocloud.dev/blob" && name == "Bucket":
			ops, ok := blobOps[fn.Name()]
			if !ok {
				t.Errorf("%s: (*blob.Bucket).%s: which S3 operations does s3blob make for it? add it to blobOps", pos, fn.Name())
			}
			return ops
		case strings.HasPrefix(pkg, sdkServices) && name == "Client":
			return []string{path.Base(pkg) + ":" + fn.Name()}
		case strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2/feature/"):
			t.Errorf("%s: (%s.%s).%s: map the SDK operations it makes", pos, pkg, name, fn.Name())
			return nil
		}
	}
	// A method of an interface shaped like the SDK's clients.
	sig := fn.Type().(*types.Signature)
	if sig.Params().Len() < 2 {
		return nil
	}
	in, ok := sig.Params().At(1).Type().(*types.Pointer)
	if !ok {
		return nil
	}
	named, ok := in.Elem().(*types.Named)
	if !ok || named.Obj().Pkg() == nil || !strings.HasPrefix(named.Obj().Pkg().Path(), sdkServices) || named.Obj().Name() != fn.Name()+"Input" {
		return nil
	}
	return []string{path.Base(named.Obj().Pkg().Path()) + ":" + fn.Name()}
}

var paginator = regexp.MustCompile(`^New(\w+)Paginator$`)

// funcOp returns the AWS operation a call of a package's function makes.
func funcOp(t *testing.T, fn *types.Func, pos token.Position) string {
	pkg := fn.Pkg().Path()
	if !strings.HasPrefix(pkg, sdkServices) {
		return ""
	}
	if m := paginator.FindStringSubmatch(fn.Name()); m != nil {
		return path.Base(pkg) + ":" + m[1]
	}
	if strings.HasSuffix(fn.Name(), "Waiter") {
		t.Errorf("%s: %s.%s: map the operations the waiter makes", pos, path.Base(pkg), fn.Name())
	}
	return ""
}

// policy is an IAM policy document.
type policy struct {
	Version   string
	Statement []struct {
		Sid       string
		Effect    string
		Action    strings1
		NotAction any
		Resource  strings1
		Condition map[string]map[string]strings1
	}
}

// strings1 is an IAM field that is a string or a list of strings.
type strings1 []string

func (s *strings1) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*s = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(s))
}

func readPolicy(t *testing.T, name string) policy {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root(t), "examples", "iam", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p policy
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if p.Version != "2012-10-17" {
		t.Errorf("%s: Version %q, want 2012-10-17", name, p.Version)
	}
	for i, s := range p.Statement {
		if s.Effect != "Allow" || s.NotAction != nil || len(s.Action) == 0 || len(s.Resource) == 0 {
			t.Errorf("%s: statement %d (%s): want Effect Allow, Action and Resource, no NotAction", name, i, s.Sid)
		}
		for _, a := range s.Action {
			if strings.Contains(a, "*") {
				t.Errorf("%s: statement %s allows %s: name every action", name, s.Sid, a)
			}
		}
	}
	return p
}

// TestPodPolicy: the pod's policy allows every IAM action that an AWS
// operation the binaries can call needs, and nothing else; it passes only
// the execution role, only to SageMaker; and no S3, SageMaker or logs
// action is allowed on every resource.
func TestPodPolicy(t *testing.T) {
	calls := sdkCalls(t)
	need := map[string][]string{} // IAM action -> the operations that need it
	for _, op := range slices.Sorted(maps.Keys(calls)) {
		actions, ok := iamActions[op]
		if !ok {
			t.Errorf("the code calls %s (%s): add its IAM actions to iamActions", op, strings.Join(calls[op], ", "))
		}
		for _, a := range actions {
			need[a] = append(need[a], op)
		}
	}
	// The interfaces the code declares hold only what it calls.
	for _, iface := range []reflect.Type{reflect.TypeFor[sagemaker.API](), reflect.TypeFor[sagemaker.CloudWatchLogsAPI]()} {
		svc := map[string]string{"API": "sagemaker", "CloudWatchLogsAPI": "cloudwatchlogs"}[iface.Name()]
		for m := range iface.Methods() {
			if _, ok := calls[svc+":"+m.Name]; !ok {
				t.Errorf("sagemaker.%s declares %s, which the binaries never call: drop it", iface.Name(), m.Name)
			}
		}
	}

	p := readPolicy(t, "pod-policy.json")
	allowed := map[string]bool{}
	for _, s := range p.Statement {
		for _, a := range s.Action {
			allowed[a] = true
			service, _, _ := strings.Cut(a, ":")
			if slices.Contains(s.Resource, "*") && service != "iam" {
				t.Errorf("statement %s allows %s on every resource", s.Sid, a)
			}
		}
		if slices.Contains(s.Action, "iam:PassRole") {
			if len(s.Action) != 1 || len(s.Resource) != 1 || !strings.HasPrefix(s.Resource[0], "arn:aws:iam::") || strings.Contains(s.Resource[0], "*") {
				t.Errorf("statement %s: iam:PassRole alone, on the execution role's ARN alone, got %q on %q", s.Sid, s.Action, s.Resource)
			}
			if got := s.Condition["StringEquals"]["iam:PassedToService"]; !slices.Equal(got, []string{"sagemaker.amazonaws.com"}) {
				t.Errorf("statement %s: iam:PassRole's condition StringEquals iam:PassedToService = %q, want sagemaker.amazonaws.com", s.Sid, got)
			}
		}
	}
	for _, a := range slices.Sorted(maps.Keys(need)) {
		if !allowed[a] {
			t.Errorf("pod-policy.json lacks %s, which %s need", a, strings.Join(need[a], ", "))
		}
	}
	for _, a := range slices.Sorted(maps.Keys(allowed)) {
		if _, ok := need[a]; !ok {
			t.Errorf("pod-policy.json allows %s, which no operation the code calls needs: remove it", a)
		}
	}
	if testing.Verbose() {
		for _, op := range slices.Sorted(maps.Keys(calls)) {
			t.Logf("%-55s %v  (%s)", op, iamActions[op], calls[op][0])
		}
	}
}

// executionActions are the IAM actions SageMaker's jobs need of their
// execution role (SageMaker Developer Guide, "SageMaker roles":
// CreateTrainingJob, CreateModel and CreateTransformJob execution role
// permissions), for the built-in algorithm's image.
var executionActions = []string{
	"cloudwatch:PutMetricData",
	"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetAuthorizationToken", "ecr:GetDownloadUrlForLayer",
	"logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents",
	"s3:GetObject", "s3:ListBucket", "s3:PutObject",
}

// TestExecutionRolePolicy: the execution role's policy allows what the jobs
// need and nothing more, S3 and logs on named resources only; its trust
// policy lets SageMaker alone assume it.
func TestExecutionRolePolicy(t *testing.T) {
	p := readPolicy(t, "sagemaker-execution-role-policy.json")
	allowed := map[string]bool{}
	for _, s := range p.Statement {
		for _, a := range s.Action {
			allowed[a] = true
			if !slices.Contains(executionActions, a) {
				t.Errorf("statement %s allows %s, which SageMaker's jobs do not need", s.Sid, a)
			}
			service, _, _ := strings.Cut(a, ":")
			if (service == "s3" || service == "logs") && slices.Contains(s.Resource, "*") {
				t.Errorf("statement %s allows %s on every resource", s.Sid, a)
			}
		}
	}
	for _, a := range executionActions {
		if !allowed[a] {
			t.Errorf("the execution role's policy lacks %s", a)
		}
	}
	data, err := os.ReadFile(filepath.Join(root(t), "examples", "iam", "sagemaker-execution-role-trust.json"))
	if err != nil {
		t.Fatal(err)
	}
	var trust struct {
		Statement []struct {
			Effect    string
			Principal struct{ Service string }
			Action    string
		}
	}
	if err := json.Unmarshal(data, &trust); err != nil {
		t.Fatalf("sagemaker-execution-role-trust.json: %v", err)
	}
	if len(trust.Statement) != 1 || trust.Statement[0].Effect != "Allow" || trust.Statement[0].Action != "sts:AssumeRole" ||
		trust.Statement[0].Principal.Service != "sagemaker.amazonaws.com" {
		t.Errorf("the execution role's trust policy %+v: want sts:AssumeRole by sagemaker.amazonaws.com alone", trust)
	}
}
