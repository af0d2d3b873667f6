"""The SLA clock of user tasks, in four parts (import the part you need):

- `declarations`: the SLA a task declares in the BPMN, checked at deploy time;
- `planning`: due and warning times of a new task, working time over due;
- `ladder`: the steps (warn, breach, escalate) as named rules in policy order,
  and who an escalation reached;
- `sweep`: the round that claims due tasks in batches and takes their steps.
"""
