package web

import (
	"errors"
	"strings"

	"github.com/leadflow/leadflow"
)

// Domain errors carry an English message meant for the API's
// problem+json. A page shows them in its own language instead: the error's
// code and location (stable identifiers, unlike the English text), with
// the action that failed, select a catalog message (flowerr.*). A page in
// English falls back to the domain's message, which is English already and
// often more precise; a page in another language falls back to a generic
// message for the code that names the field in question.

// flowErrKeys maps an action, an error code and a location ("" for any)
// to a catalog key (act "" matches any action); stage says whether the message names the lead's
// stage (its one %s). The first match wins.
var flowErrKeys = []struct {
	act, code, where, key string
	stage                 bool
}{
	{actAccept, leadflow.ECONFLICT, "", "flowerr.accept_stage", true},
	{actReject, leadflow.ECONFLICT, "", "flowerr.reject_stage", true},
	{actDisqualify, leadflow.ECONFLICT, "", "flowerr.reject_stage", true},
	{actReject, leadflow.EINVALID, "reason", "flowerr.reason", false},
	{actDisqualify, leadflow.EINVALID, "reason", "flowerr.reason", false},
	{actRecycle, leadflow.EINVALID, "note", "flowerr.recycle_note", false},
	{actQualify, leadflow.ECONFLICT, "", "flowerr.move_stage", true},
	{actRecycle, leadflow.ECONFLICT, "", "flowerr.move_stage", true},
	{actTouch, leadflow.EINVALID, "kind", "flowerr.touch_kind", false},
	{actBANT, leadflow.EINVALID, "timeline", "flowerr.timeline", false},
	{actReassign, leadflow.EINVALID, "/owner", "flowerr.owner", false},
}

// flowError is the message of err, a failed action act (or "" for a page
// that only reads) on a lead in stage (or ""), in the language of l.
func flowError(l *locale, act string, stage leadflow.Stage, err error) string {
	code := leadflow.ErrorCode(err)
	where := errorWhere(err)
	for _, k := range flowErrKeys {
		if (k.act == "" || k.act == act) && k.code == code && (k.where == "" || k.where == where) &&
			(!k.stage || stage != "") {
			if k.stage {
				return l.T(k.key, l.Stage(stage))
			}
			return l.T(k.key)
		}
	}
	if l.Lang == "en" {
		return leadflow.ErrorMessage(err)
	}
	switch code {
	case leadflow.ENOTFOUND:
		return l.T("flowerr.not_found")
	case leadflow.EFORBIDDEN:
		return l.T("error.forbidden")
	case leadflow.EINVALID:
		if where != "" {
			return l.T("flowerr.invalid_at", strings.TrimPrefix(where, "/"))
		}
		return l.T("flowerr.invalid")
	case leadflow.ECONFLICT:
		if stage != "" {
			return l.T("flowerr.move_stage", l.Stage(stage))
		}
		return l.T("flowerr.conflict")
	}
	return l.T("error.generic")
}

// errorWhere is the location of a leadflow error ("" when it has none).
func errorWhere(err error) string {
	var e *leadflow.Error
	if errors.As(err, &e) {
		return e.Where
	}
	return ""
}
