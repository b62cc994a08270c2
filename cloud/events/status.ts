// The statuses of a grid event along the governance loop (信息收集 → 分流交办 → 督办 → 处置 → 反馈 → 考核).
// This cut only ever writes `reported`; the state machine that moves between them is a later issue,
// which is why status is a column with codes and the labels live here.

export const EVENT_STATUSES = {
  reported: '上报',
  accepted: '受理',
  dispatched: '分流交办',
  handling: '处置中',
  resolved: '办结',
  verified: '核查',
  closed: '归档',
  returned: '退回',
  escalated: '督办',
} as const;

export type EventStatus = keyof typeof EVENT_STATUSES;

export const EVENT_STATUS_CODES = Object.keys(EVENT_STATUSES) as EventStatus[];

export function statusLabel(status: string): string {
  return (EVENT_STATUSES as Record<string, string>)[status] ?? status;
}
