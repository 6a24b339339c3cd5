"""The words users read for each audit action: the code stays in the database and exports.

Every action in `actions.ACTIONS` has a label here (tests/audit/test_action_labels.py checks it),
so the audit filter, the audit list and a case's "who saw it" table never show a raw code.
"""

from __future__ import annotations

from flask_babel import lazy_pgettext

from app.referrals.status import ReferralStatus, status_label


def _a(text: str):
    # Own context: "Đăng nhập" is the sign-in button elsewhere, an event ("Signed in") here.
    return lazy_pgettext("audit", text)


_LABELS = {
    "auth.sign_in": _a("Đăng nhập"),
    "auth.sign_in_failed": _a("Đăng nhập không thành công"),
    "auth.sign_out": _a("Đăng xuất"),
    "auth.session_expired": _a("Hết phiên đăng nhập"),
    "auth.throttled": _a("Tạm khoá đăng nhập do thử quá nhiều lần"),
    "auth.mfa_enrolled": _a("Bật xác thực hai lớp"),
    "auth.mfa_failed": _a("Mã xác thực hai lớp sai"),
    "auth.recovery_code_used": _a("Dùng mã khôi phục"),
    "auth.password_changed": _a("Đổi mật khẩu"),
    "auth.mfa_reset": _a("Đặt lại xác thực hai lớp"),
    "user.created": _a("Tạo người dùng"),
    "user.updated": _a("Sửa người dùng"),
    "user.disabled": _a("Khoá người dùng"),
    "user.enabled": _a("Mở khoá người dùng"),
    "user.password_reset": _a("Đặt lại mật khẩu người dùng"),
    "org.created": _a("Tạo đơn vị"),
    "org.renamed": _a("Đổi tên đơn vị"),
    "org.moved": _a("Chuyển đơn vị sang đơn vị cấp trên khác"),
    "org.retired": _a("Ngừng sử dụng đơn vị"),
    "org.imported": _a("Nhập danh sách đơn vị"),
    "case.viewed": _a("Xem hồ sơ"),
    "case.created": _a("Mở hồ sơ"),
    "case.updated": _a("Sửa hồ sơ"),
    "case.printed": _a("In hồ sơ"),
    "case.history_viewed": _a("Xem lịch sử truy cập hồ sơ"),
    "case.transferred": _a("Chuyển hồ sơ"),
    "case.erased": _a("Xoá vĩnh viễn hồ sơ"),
    "case.restricted": _a("Hạn chế xử lý hồ sơ"),
    "case.imported": _a("Nhập hồ sơ từ tệp"),
    "case.exported": _a("Xuất hồ sơ"),
    "case.searched": _a("Tìm hồ sơ"),
    "case.transfer_requested": _a("Yêu cầu chuyển hồ sơ"),
    "case.transfer_cancelled": _a("Huỷ yêu cầu chuyển hồ sơ"),
    "case.restriction_lifted": _a("Bỏ hạn chế xử lý hồ sơ"),
    "case.unreadable": _a("Hồ sơ không giải mã được"),
    "attachment.added": _a("Đính kèm tài liệu"),
    "attachment.downloaded": _a("Tải tài liệu đính kèm"),
    "need.added": _a("Thêm nhu cầu hỗ trợ"),
    "note.added": _a("Thêm ghi chú"),
    "need.updated": _a("Sửa nhu cầu hỗ trợ"),
    "consent.recorded": _a("Ghi nhận sự đồng ý"),
    "consent.withdrawn": _a("Rút lại sự đồng ý"),
    "api_token.created": _a("Tạo khoá API"),
    "api_token.revoked": _a("Thu hồi khoá API"),
    "partner.created": _a("Thêm cơ sở dịch vụ"),
    "partner.updated": _a("Sửa cơ sở dịch vụ"),
    "partner.imported": _a("Nhập danh bạ dịch vụ"),
    "partner.exported": _a("Xuất danh bạ dịch vụ"),
    "partner.attached": _a("Gắn người dùng với cơ sở dịch vụ"),
    "referral.created": _a("Tạo chuyển gửi"),
    "referral.viewed": _a("Xem chuyển gửi"),
    "referral.printed": _a("In phiếu chuyển gửi"),
    "referral.exported": _a("Xuất chuyển gửi"),
    "outreach.created": _a("Ghi hoạt động tuyên truyền"),
    "outreach.updated": _a("Sửa hoạt động tuyên truyền"),
    "outreach.deleted": _a("Xoá hoạt động tuyên truyền"),
    "outreach.imported": _a("Nhập hoạt động tuyên truyền"),
    "plan.created": _a("Tạo kế hoạch"),
    "plan.updated": _a("Sửa kế hoạch"),
    "plan.staffing_updated": _a("Sửa số cán bộ tại chức của kế hoạch"),
    "training.created": _a("Ghi lớp tập huấn cán bộ"),
    "training.updated": _a("Sửa lớp tập huấn cán bộ"),
    "training.deleted": _a("Xoá lớp tập huấn cán bộ"),
    "training.imported": _a("Nhập lớp tập huấn cán bộ từ Excel"),
    "report.viewed": _a("Xem báo cáo"),
    "report.exported": _a("Xuất báo cáo"),
    "report.figures_rebuilt": _a("Tính lại số liệu báo cáo"),
    "audit.viewed": _a("Xem nhật ký"),
    "audit.exported": _a("Xuất nhật ký"),
    "audit.checkpoint": _a("Mốc kiểm tra nhật ký"),
    "access.denied": _a("Bị từ chối truy cập"),
    "key.initialized": _a("Tạo khoá mã hoá"),
    "key.rotated": _a("Thay khoá mã hoá"),
    "key.retired": _a("Ngừng dùng khoá mã hoá cũ"),
    "breakglass.opened": _a("Truy cập khẩn cấp"),
    "demo.seeded": _a("Tạo dữ liệu mẫu"),
    "caseplan.goal_set": _a("Đặt mục tiêu kế hoạch hỗ trợ"),
    "caseplan.reviewed": _a("Rà soát kế hoạch hỗ trợ"),
    "followup.created": _a("Tạo việc cần theo dõi"),
    "followup.done": _a("Hoàn thành việc cần theo dõi"),
    "followup.reopened": _a("Mở lại việc cần theo dõi"),
    "notification.delivery_retried": _a("Gửi lại thông báo"),
    "notification.settings_changed": _a("Đổi cách nhận thông báo"),
}
# What an event is about (`AuditEvent.object_type`).
_OBJECT_LABELS = {
    "api_token": _a("Khoá API"),
    "audit_log": _a("Nhật ký"),
    "case": _a("Hồ sơ"),
    "case_list": _a("Danh sách hồ sơ"),
    "data_key": _a("Khoá dữ liệu"),
    "master_key": _a("Khoá chính"),
    "need": _a("Nhu cầu hỗ trợ"),
    "org_unit": _a("Đơn vị"),
    "outreach_activity": _a("Hoạt động tuyên truyền"),
    "partner_directory": _a("Danh bạ dịch vụ"),
    "partner_organization": _a("Cơ sở dịch vụ"),
    "partner_service": _a("Dịch vụ"),
    "plan": _a("Kế hoạch"),
    "referral": _a("Chuyển gửi"),
    "report": _a("Báo cáo"),
    "training_session": _a("Lớp tập huấn cán bộ"),
    "user": _a("Người dùng"),
}
OBJECT_TYPES = frozenset(_OBJECT_LABELS)
# referral.<status>: "Chuyển gửi: <status>", with the status in the users' words.
_REFERRAL_PREFIX = _a("Chuyển gửi:")


def action_label(action: str | None) -> str:
    """The users' words for an audit action; an unknown code is shown as it is."""
    if not action:
        return ""
    label = _LABELS.get(action)
    if label is not None:
        return str(label)
    prefix, _dot, status = action.partition(".")
    if prefix == "referral" and status in {s.value for s in ReferralStatus}:
        return f"{_REFERRAL_PREFIX} {status_label(status).lower()}"
    return action


def has_label(action: str) -> bool:
    prefix, _dot, status = action.partition(".")
    return action in _LABELS or (
        prefix == "referral" and status in {s.value for s in ReferralStatus}
    )


def object_label(object_type: str | None) -> str:
    """The users' words for what an event is about; an unknown type is shown as it is."""
    if not object_type:
        return ""
    label = _OBJECT_LABELS.get(object_type)
    return str(label) if label is not None else object_type
