"""The words the users use for each role (DESIGN.md, "Words the users use")."""

from flask_babel import lazy_gettext as _l

from app.permissions import Role

ROLE_LABELS = {
    Role.VOLUNTEER: _l("Tình nguyện viên (Đội CTXH)"),
    Role.CASEWORKER: _l("Cán bộ Hội"),
    Role.PARTNER: _l("Cơ sở cung cấp dịch vụ"),
    Role.SUPERVISOR: _l("Cán bộ giám sát"),
    Role.AUDITOR: _l("Cán bộ thanh tra, bảo vệ dữ liệu"),
    Role.ADMIN: _l("Quản trị hệ thống"),
}

ROLE_INTROS = {
    Role.VOLUNTEER: _l(
        "Ghi nhận hoạt động tuyên truyền của xã, mở hồ sơ hỗ trợ mới (khi có sự đồng ý) "
        "và theo dõi các hồ sơ được giao cho bạn."
    ),
    Role.CASEWORKER: _l(
        "Quản lý hồ sơ hỗ trợ trong đơn vị của bạn: nhu cầu, sự đồng ý, chuyển gửi dịch vụ, "
        "ghi chú và kết thúc hồ sơ."
    ),
    Role.PARTNER: _l(
        "Xem các chuyển gửi gửi đến cơ sở của bạn, tiếp nhận hoặc từ chối, và ghi nhận kết quả."
    ),
    Role.SUPERVISOR: _l(
        "Xem số liệu tổng hợp đã ẩn danh của đơn vị và cấp dưới, so với chỉ tiêu kế hoạch."
    ),
    Role.AUDITOR: _l(
        "Xem nhật ký truy cập theo hồ sơ của đơn vị và cấp dưới (ai đã xem, thay đổi hồ sơ nào, "
        "khi nào) để trả lời câu hỏi về sự cố dữ liệu; không xem được nội dung hồ sơ."
    ),
    Role.ADMIN: _l(
        "Quản lý người dùng, đơn vị, danh bạ cơ sở dịch vụ, kế hoạch, chỉ tiêu và khoá mã hoá."
    ),
}


def role_label(role) -> str:
    return str(ROLE_LABELS.get(Role(role), role)) if role else ""


def role_intro(role) -> str:
    return str(ROLE_INTROS.get(Role(role), "")) if role else ""
