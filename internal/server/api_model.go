package server

import (
	"context"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/flow"
	"github.com/leadflow/leadflow/internal/scoring"
	"github.com/leadflow/leadflow/internal/store"
)

// modelView is a model version with its compiled rules.
type modelView struct {
	store.ModelVersion
	Rules []scoring.Rule `json:"rules"`
}

type modelOutput struct {
	Body modelView
}

type versionInput struct {
	Version int `path:"version" minimum:"1"`
}

type modelListOutput struct {
	Body struct {
		Items []store.ModelVersion `json:"items"`
	}
}

type yamlInput struct {
	Filename string `query:"filename" doc:"Name used in error positions (default model.yaml)"`
	RawBody  []byte `contentType:"application/yaml"`
}

type validateOutput struct {
	Body struct {
		Valid   bool             `json:"valid"`
		Name    string           `json:"name"`
		Rules   []scoring.Rule   `json:"rules"`
		Changes []scoring.Change `json:"changes" doc:"Rule-level changes against the active model"`
	}
}

type applyOutput struct {
	Body struct {
		Model   store.ModelVersion `json:"model"`
		Rescore *store.RescoreRun  `json:"rescore"`
		Changes []scoring.Change   `json:"changes"`
	}
}

type diffInput struct {
	From int `query:"from" doc:"Older version (default: the one before to)"`
	To   int `query:"to" doc:"Newer version (default: the active one)"`
}

type diffOutput struct {
	Body struct {
		From    int              `json:"from"`
		To      int              `json:"to"`
		Changes []scoring.Change `json:"changes"`
	}
}

type rescoreIDInput struct {
	ID int64 `path:"id" minimum:"1"`
}

type rescoreOutput struct {
	Body *store.RescoreRun
}

type scoreOutput struct {
	Body *flow.Explanation
}

func (s *Server) compileVersion(mv *store.ModelVersion) (*scoring.Model, error) {
	return scoring.Compile("model v"+itoa(mv.Version), []byte(mv.Source))
}

func (s *Server) registerModel() {
	tags := []string{"scoring model"}
	huma.Register(s.api, huma.Operation{OperationID: "get-model", Method: http.MethodGet, Path: "/api/v1/model",
		Summary: "The active scoring model", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*modelOutput, error) {
			act, mv, err := s.deps.Flow.ActiveModel(ctx)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &modelOutput{Body: modelView{ModelVersion: *mv, Rules: act.Model.Rules()}}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "list-model-versions", Method: http.MethodGet, Path: "/api/v1/model/versions",
		Summary: "Every applied version, newest first", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*modelListOutput, error) {
			items, err := s.deps.DB.ModelVersions(ctx)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &modelListOutput{}
			out.Body.Items = items
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "get-model-version", Method: http.MethodGet, Path: "/api/v1/model/versions/{version}",
		Summary: "One model version", Tags: tags},
		func(ctx context.Context, in *versionInput) (*modelOutput, error) {
			mv, err := s.deps.DB.ModelByVersion(ctx, in.Version)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			m, err := s.compileVersion(mv)
			if err != nil {
				return nil, apiError(s.log, leadflow.Internal(err, "stored model"))
			}
			return &modelOutput{Body: modelView{ModelVersion: *mv, Rules: m.Rules()}}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "validate-model", Method: http.MethodPost, Path: "/api/v1/model/validate",
		Summary: "Validate a draft model", Description: "Compiles the YAML body; problems come back as a 400 problem with every error located at line:column.",
		Tags: tags},
		func(ctx context.Context, in *yamlInput) (*validateOutput, error) {
			m, err := scoring.Compile(filename(in.Filename), in.RawBody)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			act, _, err := s.deps.Flow.ActiveModel(ctx)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &validateOutput{}
			out.Body.Valid, out.Body.Name, out.Body.Rules = true, m.Name, m.Rules()
			out.Body.Changes = nonNil(scoring.Diff(act.Model, m))
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "apply-model", Method: http.MethodPost, Path: "/api/v1/model",
		Summary: "Apply a new model version",
		Description: "Validates the YAML body; when valid it becomes the active version at once and every lead is rescored in the background " +
			"(follow the returned rescore run). An invalid model changes nothing.",
		DefaultStatus: http.StatusCreated, Tags: tags},
		func(ctx context.Context, in *yamlInput) (*applyOutput, error) {
			prev, _, err := s.deps.Flow.ActiveModel(ctx)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			mv, run, err := s.deps.Flow.ApplyModel(ctx, filename(in.Filename), in.RawBody, actorOf(ctx))
			if err != nil {
				return nil, apiError(s.log, err)
			}
			m, _ := scoring.Compile(filename(in.Filename), in.RawBody)
			out := &applyOutput{}
			out.Body.Model, out.Body.Rescore = *mv, run
			out.Body.Changes = nonNil(scoring.Diff(prev.Model, m))
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "diff-models", Method: http.MethodGet, Path: "/api/v1/model/diff",
		Summary: "Rule-level changes between two versions", Tags: tags},
		func(ctx context.Context, in *diffInput) (*diffOutput, error) {
			to := in.To
			if to == 0 {
				_, mv, err := s.deps.Flow.ActiveModel(ctx)
				if err != nil {
					return nil, apiError(s.log, err)
				}
				to = mv.Version
			}
			from := in.From
			if from == 0 {
				from = to - 1
			}
			changes, err := s.diff(ctx, from, to)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &diffOutput{}
			out.Body.From, out.Body.To, out.Body.Changes = from, to, changes
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "latest-rescore", Method: http.MethodGet, Path: "/api/v1/model/rescores/latest",
		Summary: "Progress of the newest rescore", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*rescoreOutput, error) {
			run, err := s.deps.DB.LatestRescoreRun(ctx)
			return &rescoreOutput{Body: run}, apiError(s.log, err)
		})
	huma.Register(s.api, huma.Operation{OperationID: "get-rescore", Method: http.MethodGet, Path: "/api/v1/model/rescores/{id}",
		Summary: "Progress of one rescore", Tags: tags},
		func(ctx context.Context, in *rescoreIDInput) (*rescoreOutput, error) {
			run, err := s.deps.DB.RescoreRunByID(ctx, in.ID)
			return &rescoreOutput{Body: run}, apiError(s.log, err)
		})
	huma.Register(s.api, huma.Operation{OperationID: "lead-score", Method: http.MethodGet, Path: "/api/v1/leads/{id}/score",
		Summary: "Why a lead has its score",
		Description: "Fit rules that matched, each behavior rule with its events (time, points, decay factor, cap), totals, " +
			"the thresholds of the active model and how far the lead is from its next stage; as of now.",
		Tags: []string{"leads"}},
		func(ctx context.Context, in *leadIDInput) (*scoreOutput, error) {
			e, _, err := s.deps.Flow.Explain(ctx, in.ID)
			return &scoreOutput{Body: e}, apiError(s.log, err)
		})
}

// diff compares two stored versions (version 0 is the empty model).
func (s *Server) diff(ctx context.Context, from, to int) ([]scoring.Change, error) {
	load := func(v int) (*scoring.Model, error) {
		if v <= 0 {
			return nil, nil
		}
		mv, err := s.deps.DB.ModelByVersion(ctx, v)
		if err != nil {
			return nil, err
		}
		return s.compileVersion(mv)
	}
	a, err := load(from)
	if err != nil {
		return nil, err
	}
	b, err := load(to)
	if err != nil {
		return nil, err
	}
	return nonNil(scoring.Diff(a, b)), nil
}

func filename(s string) string {
	if s == "" {
		return "model.yaml"
	}
	return s
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }
