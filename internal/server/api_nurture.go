package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/nurture"
	"github.com/leadflow/leadflow/internal/store"
)

type sequenceView struct {
	store.Sequence
	Steps []stepView `json:"steps"`
}

type stepView struct {
	Index int    `json:"index"`
	ID    string `json:"id"`
	Kind  string `json:"kind"`
}

type sequenceOutput struct{ Body *sequenceView }

type sequencesOutput struct {
	Body struct {
		Items []sequenceView `json:"items"`
	}
}

type sequenceIDInput struct {
	ID int64 `path:"id" minimum:"1"`
}

type enrolmentOutput struct{ Body *store.Enrolment }

type stepReport struct {
	store.StepCounts
	ID   string `json:"id"`
	Kind string `json:"kind"`
}

type sequenceReport struct {
	Sequence string       `json:"sequence"`
	Enrolled int          `json:"enrolled"`
	Steps    []stepReport `json:"steps"`
}

type nurtureRaw struct {
	ContentType string `header:"Content-Type"`
	Body        any
}

func viewOf(row *store.Sequence) *sequenceView {
	v := &sequenceView{Sequence: *row, Steps: []stepView{}}
	if seq, err := nurture.Parse(row.Name+".yaml", []byte(row.Source)); err == nil {
		for i, st := range seq.Steps {
			v.Steps = append(v.Steps, stepView{Index: i, ID: st.ID, Kind: st.Kind})
		}
	}
	return v
}

// registerNurture adds the nurture API (sequences, enrolments, tasks,
// reports, test send) and mounts the tracking endpoints, which take no
// API key: the signed token is the credential.
type nurtureSettingsOutput struct {
	Body nurture.Settings
}

func (s *Server) registerNurture() {
	svc := s.deps.Nurture
	if svc == nil {
		svc = nurture.New(s.deps.DB, s.deps.Flow.NurtureSequences(), nurture.Options{Logger: s.log, Now: s.deps.Now})
		svc.SetRecorder(s.deps.Flow)
	}
	s.mux.HandleFunc("GET /t/o/{token}", svc.HandleOpen)
	s.mux.HandleFunc("GET /t/c/{token}", svc.HandleClick)
	s.mux.HandleFunc("GET /u/{token}", svc.HandleUnsubscribePage)
	s.mux.HandleFunc("POST /u/{token}", svc.HandleUnsubscribe)

	tags := []string{"nurture"}
	db := s.deps.DB
	huma.Register(s.api, huma.Operation{OperationID: "get-nurture-settings", Method: http.MethodGet, Path: "/api/v1/settings/nurture",
		Summary: "Nurture settings: send rate limits and the tracking base URL", Tags: []string{"settings"}},
		func(ctx context.Context, _ *struct{}) (*nurtureSettingsOutput, error) {
			out := &nurtureSettingsOutput{}
			st, err := db.Setting(ctx, store.SettingNurture)
			switch {
			case leadflow.ErrorCode(err) == leadflow.ENOTFOUND:
				out.Body = nurture.DefaultSettings
				return out, nil
			case err != nil:
				return nil, apiError(s.log, err)
			}
			parsed, err := nurture.ParseSettings([]byte(st.Value))
			if err != nil {
				return nil, apiError(s.log, leadflow.Internal(err, "stored nurture settings"))
			}
			out.Body = *parsed
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "put-nurture-settings", Method: http.MethodPut, Path: "/api/v1/settings/nurture",
		Summary:     "Set the nurture settings",
		Description: "YAML body: `rate: {per_minute: 60, per_sender_per_minute: 30}` (0: unlimited) and an optional `base_url` for tracking links.",
		Tags:        []string{"settings"}},
		func(ctx context.Context, in *yamlInput) (*nurtureSettingsOutput, error) {
			parsed, err := nurture.ParseSettings(in.RawBody)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			err = db.InTx(ctx, func(tx *store.Tx) error {
				return tx.PutSetting(ctx, store.SettingNurture, string(in.RawBody), string(actorOf(ctx)))
			})
			return &nurtureSettingsOutput{Body: *parsed}, apiError(s.log, err)
		})
	huma.Register(s.api, huma.Operation{OperationID: "list-sequences", Method: http.MethodGet, Path: "/api/v1/nurture/sequences",
		Summary: "List nurture sequences", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*sequencesOutput, error) {
			rows, err := db.Sequences(ctx)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			out := &sequencesOutput{}
			out.Body.Items = []sequenceView{}
			for i := range rows {
				out.Body.Items = append(out.Body.Items, *viewOf(&rows[i]))
			}
			return out, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "put-sequence", Method: http.MethodPut, Path: "/api/v1/nurture/sequences",
		Summary: "Create or replace a sequence",
		Description: "The YAML body is validated first: templates that do not parse or use unknown fields, unknown stages, " +
			"bad waits, conditions that do not type-check and branches that would loop are refused with line:column.",
		Tags: tags},
		func(ctx context.Context, in *struct {
			Inactive bool   `query:"inactive" doc:"Store it switched off (it enrols nobody)"`
			RawBody  []byte `contentType:"application/yaml"`
		}) (*sequenceOutput, error) {
			seq, err := nurture.Parse("sequence.yaml", in.RawBody)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			row := &store.Sequence{Name: seq.Name, Source: string(in.RawBody), Active: !in.Inactive, UpdatedBy: string(actorOf(ctx))}
			if err := db.InTx(ctx, func(tx *store.Tx) error { return tx.SaveSequence(ctx, row) }); err != nil {
				return nil, apiError(s.log, err)
			}
			return &sequenceOutput{Body: viewOf(row)}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "get-sequence", Method: http.MethodGet, Path: "/api/v1/nurture/sequences/{id}",
		Summary: "Get a sequence", Tags: tags},
		func(ctx context.Context, in *sequenceIDInput) (*sequenceOutput, error) {
			row, err := db.Sequence(ctx, in.ID)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &sequenceOutput{Body: viewOf(row)}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "activate-sequence", Method: http.MethodPost, Path: "/api/v1/nurture/sequences/{id}/active",
		Summary: "Switch a sequence on or off", Tags: tags},
		func(ctx context.Context, in *struct {
			ID   int64 `path:"id" minimum:"1"`
			Body struct {
				Active bool `json:"active"`
			}
		}) (*sequenceOutput, error) {
			var row *store.Sequence
			err := db.InTx(ctx, func(tx *store.Tx) (err error) {
				row, err = tx.SetSequenceActive(ctx, in.ID, in.Body.Active, string(actorOf(ctx)))
				return err
			})
			if err != nil {
				return nil, apiError(s.log, err)
			}
			return &sequenceOutput{Body: viewOf(row)}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "enrol-lead", Method: http.MethodPost, Path: "/api/v1/nurture/sequences/{id}/enrolments",
		Summary: "Enrol a lead by hand", Description: "Subject to the sequence's exclusions; 409 says why a lead was not enrolled.", Tags: tags},
		func(ctx context.Context, in *struct {
			ID   int64 `path:"id" minimum:"1"`
			Body struct {
				LeadID int64 `json:"lead_id" minimum:"1"`
			}
		}) (*enrolmentOutput, error) {
			e, why, err := s.deps.Flow.EnrolInSequence(ctx, in.ID, in.Body.LeadID, actorOf(ctx))
			if err == nil && e == nil {
				err = leadflow.Errorf(leadflow.ECONFLICT, "lead %d was not enrolled: %s", in.Body.LeadID, why)
			}
			return &enrolmentOutput{Body: e}, apiError(s.log, err)
		})
	huma.Register(s.api, huma.Operation{OperationID: "lead-enrolments", Method: http.MethodGet, Path: "/api/v1/leads/{id}/enrolments",
		Summary: "A lead's place in each sequence", Tags: tags},
		func(ctx context.Context, in *sequenceIDInput) (*struct {
			Body struct {
				Items []store.Enrolment `json:"items"`
			}
		}, error) {
			es, err := db.EnrolmentsOfLead(ctx, in.ID)
			out := &struct {
				Body struct {
					Items []store.Enrolment `json:"items"`
				}
			}{}
			out.Body.Items = es
			return out, apiError(s.log, err)
		})
	control := func(id, verb, summary string, fn func(ctx context.Context, id int64, reason string) (*store.Enrolment, error)) {
		huma.Register(s.api, huma.Operation{OperationID: id, Method: http.MethodPost, Path: "/api/v1/nurture/enrolments/{id}/" + verb,
			Summary: summary, Tags: tags},
			func(ctx context.Context, in *struct {
				ID   int64 `path:"id" minimum:"1"`
				Body *struct {
					Reason string `json:"reason,omitempty" doc:"Exit reason, e.g. replied (default removed)"`
				}
			}) (*enrolmentOutput, error) {
				reason := ""
				if in.Body != nil {
					reason = in.Body.Reason
				}
				if err := s.checkEnrolment(ctx, in.ID); err != nil {
					return nil, apiError(s.log, err)
				}
				e, err := fn(ctx, in.ID, reason)
				return &enrolmentOutput{Body: e}, apiError(s.log, err)
			})
	}
	control("pause-enrolment", "pause", "Pause an enrolment", func(ctx context.Context, id int64, _ string) (*store.Enrolment, error) {
		return s.deps.Flow.PauseEnrolment(ctx, id)
	})
	control("resume-enrolment", "resume", "Resume a paused enrolment", func(ctx context.Context, id int64, _ string) (*store.Enrolment, error) {
		return s.deps.Flow.ResumeEnrolment(ctx, id)
	})
	control("exit-enrolment", "exit", "Take a lead out of a sequence", s.deps.Flow.ExitEnrolment)
	s.registerNurtureBounces(tags)

	huma.Register(s.api, huma.Operation{OperationID: "list-nurture-tasks", Method: http.MethodGet, Path: "/api/v1/nurture/tasks",
		Summary: "Open call and follow-up tasks (the inside sales queue)", Tags: tags},
		func(ctx context.Context, in *struct {
			Owner string `query:"owner"`
			Limit int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
		}) (*struct {
			Body struct {
				Items []store.Task `json:"items"`
			}
		}, error) {
			owner, err := s.ownerInScope(ctx, in.Owner)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			ts, err := db.OpenTasks(ctx, owner, in.Limit)
			out := &struct {
				Body struct {
					Items []store.Task `json:"items"`
				}
			}{}
			out.Body.Items = ts
			return out, apiError(s.log, err)
		})
	huma.Register(s.api, huma.Operation{OperationID: "complete-nurture-task", Method: http.MethodPost, Path: "/api/v1/nurture/tasks/{id}/complete",
		Summary: "Complete a task", Description: "Logs a touch of the task's kind with the outcome (stopping first-touch SLA clocks).", Tags: tags},
		func(ctx context.Context, in *struct {
			ID   int64 `path:"id" minimum:"1"`
			Body struct {
				User    string `json:"user,omitempty"`
				Outcome string `json:"outcome" minLength:"1" maxLength:"200" doc:"e.g. connected, voicemail, no answer, meeting booked"`
				Note    string `json:"note,omitempty" maxLength:"4000"`
			}
		}) (*struct {
			Body struct {
				Task  *store.Task  `json:"task"`
				Touch *store.Touch `json:"touch"`
			}
		}, error) {
			a, err := s.salesActor(ctx, in.Body.User)
			if err == nil {
				err = s.checkTask(ctx, in.ID)
			}
			if err != nil {
				return nil, apiError(s.log, err)
			}
			t, touch, err := s.deps.Flow.CompleteNurtureTask(ctx, in.ID, in.Body.Outcome, in.Body.Note, a)
			out := &struct {
				Body struct {
					Task  *store.Task  `json:"task"`
					Touch *store.Touch `json:"touch"`
				}
			}{}
			out.Body.Task, out.Body.Touch = t, touch
			return out, apiError(s.log, err)
		})
	huma.Register(s.api, huma.Operation{OperationID: "sequence-report", Method: http.MethodGet, Path: "/api/v1/nurture/sequences/{id}/report",
		Summary: "Per-step report of a sequence", Description: "enrolled, sent, opened, clicked, unsubscribed, bounced, converted to SQL and exited per step; format=csv for CSV.", Tags: tags},
		func(ctx context.Context, in *struct {
			ID     int64  `path:"id" minimum:"1"`
			Format string `query:"format" enum:",json,csv"`
			Accept string `header:"Accept"`
		}) (*nurtureRaw, error) {
			rep, err := s.sequenceReport(ctx, in.ID)
			if err != nil {
				return nil, apiError(s.log, err)
			}
			if in.Format == "csv" || (in.Format == "" && strings.Contains(in.Accept, "text/csv")) {
				var b bytes.Buffer
				w := csv.NewWriter(&b)
				_ = w.Write([]string{"sequence", "step", "id", "kind", "reached", "sent", "opened", "clicked", "unsubscribed",
					"tasks", "tasks_done", "converted", "exited", "active", "completed", "bounced", "hard_bounced"})
				for _, st := range rep.Steps {
					n := func(v int) string { return strconv.Itoa(v) }
					_ = w.Write([]string{rep.Sequence, n(st.Step + 1), st.ID, st.Kind, n(st.Reached), n(st.Sent), n(st.Opened), n(st.Clicked),
						n(st.Unsubscribed), n(st.Tasks), n(st.TasksDone), n(st.Converted), n(st.Exited), n(st.Active), n(st.Completed),
						n(st.Bounced), n(st.HardBounced)})
				}
				w.Flush()
				return &nurtureRaw{ContentType: "text/csv; charset=utf-8", Body: b.Bytes()}, nil
			}
			return &nurtureRaw{ContentType: "application/json", Body: rep}, nil
		})
	huma.Register(s.api, huma.Operation{OperationID: "sequence-test-send", Method: http.MethodPost, Path: "/api/v1/nurture/sequences/{id}/test-send",
		Summary: "Send a template to an address now", Description: "Renders for the lead given (or a sample lead) and sends through the configured SMTP server; the error says what went wrong.", Tags: tags},
		func(ctx context.Context, in *struct {
			ID   int64 `path:"id" minimum:"1"`
			Body struct {
				Template string `json:"template" minLength:"1"`
				To       string `json:"to" minLength:"3"`
				LeadID   int64  `json:"lead_id,omitempty"`
			}
		}) (*struct{}, error) {
			return nil, apiError(s.log, svc.TestSend(ctx, in.ID, in.Body.Template, in.Body.LeadID, in.Body.To))
		})
}

func (s *Server) sequenceReport(ctx context.Context, id int64) (*sequenceReport, error) {
	row, err := s.deps.DB.Sequence(ctx, id)
	if err != nil {
		return nil, err
	}
	seq, err := nurture.Parse(row.Name+".yaml", []byte(row.Source))
	if err != nil {
		return nil, leadflow.Internal(err, "stored sequence")
	}
	counts, err := s.deps.DB.SequenceCounts(ctx, id, len(seq.Steps))
	if err != nil {
		return nil, err
	}
	rep := &sequenceReport{Sequence: seq.Name}
	for i, c := range counts {
		st := stepReport{StepCounts: c}
		if i < len(seq.Steps) {
			st.ID, st.Kind = seq.Steps[i].ID, seq.Steps[i].Kind
		}
		rep.Steps = append(rep.Steps, st)
	}
	if len(counts) > 0 {
		rep.Enrolled = counts[0].Reached
	}
	return rep, nil
}
