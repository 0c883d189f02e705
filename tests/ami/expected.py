"""What each real Asterisk 20 capture must yield: the call events the AMI provider derives from it,
as the agents (1001 Alice, 1002 Bob, 1003 Carol) would see them."""

from __future__ import annotations

# (event, extension, direction, detail): detail is the remote number, or the end reason.
INTERNAL_ANSWERED = [
    ("outgoing", "1002", "outgoing", "1001"),
    ("incoming", "1001", "incoming", "1002"),
    ("updated", "1002", "outgoing", "1001"),  # Alice's name learned at DialBegin
    ("ringback", "1002", "outgoing", ""),
    ("answered", "1001", "incoming", ""),
    ("answered", "1002", "outgoing", ""),
]
EXPECTED: dict[str, list[tuple[str, str, str, str]]] = {
    "01_register": [],
    "02_internal_answered": [
        *INTERNAL_ANSWERED,
        ("ended", "1002", "outgoing", "completed"),
        ("ended", "1001", "incoming", "completed"),
    ],
    "03_internal_answered_callee_hangup": [
        *INTERNAL_ANSWERED,
        ("ended", "1001", "incoming", "completed"),  # the callee hangs up first
        ("ended", "1002", "outgoing", "completed"),
    ],
    "04_internal_unanswered_caller_cancel": [
        *INTERNAL_ANSWERED[:4],
        ("ended", "1001", "incoming", "cancelled"),  # caller gave up (DialStatus CANCEL)
        ("ended", "1002", "outgoing", "cancelled"),
    ],
    "05_internal_rejected_busy": [
        *INTERNAL_ANSWERED[:4],
        ("ended", "1001", "incoming", "rejected"),  # rang, then 486 from the phone: Alice declined
        ("ended", "1002", "outgoing", "busy"),  # what Bob heard
    ],
    "06_trunk_did_7000": [
        ("incoming", "1001", "incoming", "+49301234567"),
        ("answered", "1001", "incoming", ""),
        ("ended", "1001", "incoming", "completed"),
    ],
    "06_trunk_did_7001": [
        ("incoming", "1001", "incoming", "+49301234567"),
        ("answered", "1001", "incoming", ""),
        ("ended", "1001", "incoming", "completed"),
    ],
    "07_ivr_customer_id": [
        ("outgoing", "1002", "outgoing", "7100"),
        ("answered", "1002", "outgoing", ""),  # the IVR answers Bob
        ("updated", "1002", "outgoing", ""),  # __CUSTOMER_ID
        ("updated", "1002", "outgoing", ""),  # __IVR_CHOICE
        ("incoming", "1001", "incoming", "1002"),  # pop-up already carries both variables
        ("updated", "1002", "outgoing", "1001"),  # the IVR put Bob through to 1001
        ("answered", "1001", "incoming", ""),
        ("ended", "1002", "outgoing", "completed"),
        ("ended", "1001", "incoming", "completed"),
    ],
    "08_call_waiting_unanswered": [
        *INTERNAL_ANSWERED,
        ("outgoing", "1003", "outgoing", "1001"),
        ("incoming", "1001", "incoming", "1003"),  # waiting: Alice is talking to Bob
        ("updated", "1003", "outgoing", "1001"),
        ("ringback", "1003", "outgoing", ""),
        ("ended", "1001", "incoming", "cancelled"),  # Carol gave up
        ("ended", "1003", "outgoing", "cancelled"),
        ("ended", "1001", "incoming", "completed"),
        ("ended", "1002", "outgoing", "completed"),
    ],
    "10_originate_click_to_dial": [
        ("outgoing", "1001", "outgoing", "1002"),  # at once, from dial()
        ("incoming", "1002", "incoming", "1001"),  # Bob's phone shows Alice, who placed the call
        ("updated", "1001", "outgoing", "1002"),  # Bob's name
        ("ringback", "1001", "outgoing", ""),
        ("answered", "1002", "incoming", ""),
        ("answered", "1001", "outgoing", ""),  # Bob answered, not Alice picking up her phone
        ("ended", "1002", "incoming", "completed"),
        ("ended", "1001", "outgoing", "completed"),
    ],
    "12_queue_call": [
        ("outgoing", "1002", "outgoing", "7200"),
        ("answered", "1002", "outgoing", ""),  # the queue answers Bob (music on hold)
        ("incoming", "1003", "incoming", "1002"),
        ("incoming", "1001", "incoming", "1002"),
        ("answered", "1003", "incoming", ""),
        ("ended", "1001", "incoming", "answered_elsewhere"),  # B1: Carol took it
        ("ended", "1003", "incoming", "completed"),
        ("ended", "1002", "outgoing", "completed"),
    ],
    "13_ami_actions_status_hangup": [
        *INTERNAL_ANSWERED,
        ("ended", "1001", "incoming", "completed"),  # hung up through AMI
        ("ended", "1002", "outgoing", "completed"),
    ],
    "14_unregister": [],
    "15_register_after_unregister": [],
}
