-- Nurture: sequences, enrolments, sends, tasks, suppressions.

-- name: NurtureSequenceInsert
INSERT INTO nurture_sequences (name, source, active, created_at, updated_at, updated_by)
VALUES (?, ?, ?, ?, ?, ?) RETURNING id

-- name: NurtureSequenceUpdate
UPDATE nurture_sequences SET source = ?, active = ?, updated_at = ?, updated_by = ? WHERE id = ?

-- name: NurtureSequenceByID
SELECT id, name, source, active, created_at, updated_at, updated_by FROM nurture_sequences WHERE id = ?

-- name: NurtureSequenceByName
SELECT id, name, source, active, created_at, updated_at, updated_by FROM nurture_sequences WHERE name = ?

-- name: NurtureSequences
SELECT id, name, source, active, created_at, updated_at, updated_by FROM nurture_sequences ORDER BY id

-- name: NurtureSequencesStamp
SELECT COUNT(*), COALESCE(MAX(updated_at), 0), COALESCE(SUM(id), 0) FROM nurture_sequences

-- name: NurtureEnrolmentInsert
INSERT INTO nurture_enrolments (sequence_id, lead_id, step, status, cause, enrolled_at, updated_at, next_run_at)
VALUES (?, ?, 0, 'active', ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id

-- name: NurtureEnrolmentByID
SELECT id, sequence_id, lead_id, step, status, exit_reason, cause, enrolled_at, updated_at, next_run_at, paused_at
FROM nurture_enrolments WHERE id = ?

-- name: NurtureEnrolmentsOfLead
SELECT id, sequence_id, lead_id, step, status, exit_reason, cause, enrolled_at, updated_at, next_run_at, paused_at
FROM nurture_enrolments WHERE lead_id = ? ORDER BY id

-- name: NurtureEnrolmentsLiveOfLead
SELECT id, sequence_id, lead_id, step, status, exit_reason, cause, enrolled_at, updated_at, next_run_at, paused_at
FROM nurture_enrolments WHERE lead_id = ? AND status IN ('active', 'paused') ORDER BY id

-- name: NurtureEnrolmentsOfSequence
SELECT id, sequence_id, lead_id, step, status, exit_reason, cause, enrolled_at, updated_at, next_run_at, paused_at
FROM nurture_enrolments WHERE sequence_id = ? AND id > ? ORDER BY id LIMIT ?

-- name: NurtureEnrolmentMove
UPDATE nurture_enrolments SET step = ?, status = ?, exit_reason = ?, updated_at = ?, next_run_at = ?, paused_at = 0
WHERE id = ? AND step = ? AND status = ?

-- name: NurtureEnrolmentPause
UPDATE nurture_enrolments SET status = 'paused', paused_at = ?, updated_at = ?
WHERE id = ? AND step = ? AND status = 'active'

-- name: NurtureSendClaim
INSERT INTO nurture_sends (enrolment_id, step, sequence_id, lead_id, email, status, created_at)
VALUES (?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT (enrolment_id, step) DO NOTHING

-- name: NurtureSendOf
SELECT id, enrolment_id, step, sequence_id, lead_id, email, status, message_id, attempts, last_error, created_at,
       sent_at, opened_at, clicked_at, unsubscribed_at, bounce, bounced_at
FROM nurture_sends WHERE enrolment_id = ? AND step = ?

-- name: NurtureSendByID
SELECT id, enrolment_id, step, sequence_id, lead_id, email, status, message_id, attempts, last_error, created_at,
       sent_at, opened_at, clicked_at, unsubscribed_at, bounce, bounced_at
FROM nurture_sends WHERE id = ?

-- name: NurtureSendLast
SELECT id, enrolment_id, step, sequence_id, lead_id, email, status, message_id, attempts, last_error, created_at,
       sent_at, opened_at, clicked_at, unsubscribed_at, bounce, bounced_at
FROM nurture_sends WHERE enrolment_id = ? AND status = 'sent' ORDER BY step DESC LIMIT 1

-- name: NurtureSendAttempt
UPDATE nurture_sends SET attempts = attempts + 1, last_error = ?, message_id = ? WHERE id = ? AND status = 'pending'

-- name: NurtureSendDone
UPDATE nurture_sends SET status = ?, sent_at = ?, message_id = ?, last_error = '' WHERE id = ? AND status = 'pending'

-- name: NurtureSendOpened
UPDATE nurture_sends SET opened_at = COALESCE(opened_at, ?) WHERE id = ?

-- name: NurtureSendClicked
UPDATE nurture_sends SET clicked_at = COALESCE(clicked_at, ?), opened_at = COALESCE(opened_at, ?) WHERE id = ?

-- name: NurtureSendUnsubscribed
UPDATE nurture_sends SET unsubscribed_at = COALESCE(unsubscribed_at, ?) WHERE id = ?

-- name: NurtureTaskInsert
INSERT INTO nurture_tasks (enrolment_id, step, sequence_id, lead_id, kind, title, owner, due_at, status, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?) ON CONFLICT (enrolment_id, step) DO NOTHING

-- name: NurtureTaskByID
SELECT id, enrolment_id, step, sequence_id, lead_id, kind, title, owner, due_at, status, outcome, touch_id,
       created_at, done_at, done_by
FROM nurture_tasks WHERE id = ?

-- name: NurtureTasksOpen
SELECT id, enrolment_id, step, sequence_id, lead_id, kind, title, owner, due_at, status, outcome, touch_id,
       created_at, done_at, done_by
FROM nurture_tasks WHERE status = 'open' AND (? = '' OR owner = ?) ORDER BY due_at, id LIMIT ?

-- name: NurtureTaskComplete
UPDATE nurture_tasks SET status = 'done', outcome = ?, touch_id = ?, done_at = ?, done_by = ? WHERE id = ? AND status = 'open'

-- name: NurtureSuppress
INSERT INTO nurture_suppressions (email, reason, lead_id, at) VALUES (?, ?, ?, ?)
ON CONFLICT (email) DO UPDATE SET reason = excluded.reason, at = excluded.at

-- name: NurtureSuppression
SELECT reason FROM nurture_suppressions WHERE email = ?

-- name: NurtureKey
SELECT secret FROM nurture_keys WHERE id = 1

-- name: NurtureKeyInsert
INSERT INTO nurture_keys (id, secret) VALUES (1, ?) ON CONFLICT (id) DO NOTHING

-- name: NurtureReportEnrolments
SELECT step, status, exit_reason, COUNT(*) FROM nurture_enrolments WHERE sequence_id = ? GROUP BY step, status, exit_reason

-- name: NurtureReportSends
SELECT step, COUNT(*), COUNT(opened_at), COUNT(clicked_at), COUNT(unsubscribed_at)
FROM nurture_sends WHERE sequence_id = ? AND status = 'sent' GROUP BY step

-- name: NurtureReportTasks
SELECT step, COUNT(*), COUNT(done_at) FROM nurture_tasks WHERE sequence_id = ? GROUP BY step

-- name: NurtureReportBounces
SELECT step, COUNT(*), COUNT(CASE WHEN bounce = 'hard' THEN 1 END)
FROM nurture_sends WHERE sequence_id = ? AND bounced_at IS NOT NULL GROUP BY step

-- name: NurtureSendsOfEnrolment
SELECT id, enrolment_id, step, sequence_id, lead_id, email, status, message_id, attempts, last_error, created_at,
       sent_at, opened_at, clicked_at, unsubscribed_at, bounce, bounced_at
FROM nurture_sends WHERE enrolment_id = ? ORDER BY step

-- name: NurtureSendByMessageID
SELECT id, enrolment_id, step, sequence_id, lead_id, email, status, message_id, attempts, last_error, created_at,
       sent_at, opened_at, clicked_at, unsubscribed_at, bounce, bounced_at
FROM nurture_sends WHERE message_id = ? ORDER BY id LIMIT 1

-- name: NurtureSendBounced
UPDATE nurture_sends SET bounced_at = COALESCE(bounced_at, ?), bounce = CASE WHEN bounce = 'hard' THEN 'hard' ELSE ? END
WHERE id = ?

-- name: NurtureBounceInsert
INSERT INTO nurture_bounces (email, kind, reason, message_id, lead_id, send_id, at, received_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (email, kind, at) DO NOTHING RETURNING id

-- name: NurtureBounceCount
SELECT COUNT(*) FROM nurture_bounces WHERE email = ? AND kind = ? AND at > ?

-- name: NurtureBounceOfMessage
SELECT COUNT(*) FROM nurture_bounces WHERE message_id = ? AND kind = ?
