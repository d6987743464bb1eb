"""What a person reads for an audit-trail action (a task's timeline on the web page and in the evidence pack):
one table, zh and en. Workflow transitions use the state machine's own words (``workflow.TRANSITIONS``)."""

from __future__ import annotations

from gridaudit.i18n import Text

# trail actions that are not workflow transitions
EVENT_LABELS: dict[str, Text] = {
    "task_create": Text("纳入稽查计划", "put in the audit plan"),
    "attach": Text("上传附件", "attachment added"),
    "penalty": Text("登记追补电费与违约使用电费", "back-billing and penalty booked"),
    "penalty_void": Text("作废违约金登记", "penalty booking voided"),
    "result_void": Text("作废核查结果", "result voided"),
    "result_correct": Text("更正核查结果", "result corrected"),
    "evidence": Text("生成证据包", "evidence pack produced"),
    "tip_add": Text("登记举报", "tip entered"),
    "tip_match": Text("确认举报对象", "tip matched to a customer"),
    "tip_reporter_view": Text("查看举报人信息", "tip reporter viewed"),
    "tip_reward_propose": Text("提出举报奖励", "tip reward proposed"),
    "tip_reward_approve": Text("批准举报奖励", "tip reward approved"),
    "tip_reward_reject": Text("驳回举报奖励", "tip reward rejected"),
}


def event_label(action: str) -> Text:
    """The bilingual label of a trail action (the action's code itself when it has none)."""
    from gridaudit.audit.workflow import TRANSITIONS

    if action in TRANSITIONS:
        t = TRANSITIONS[action]
        return Text(t.zh, t.en)
    return EVENT_LABELS.get(action, Text(action, action))
