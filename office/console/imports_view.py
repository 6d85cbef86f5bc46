"""Imports (导入): templates to download, an upload checked in a preview (every problem row by
row, or the counts of what would be added), and one confirm that imports exactly the previewed
file: the upload is kept under a token with its hash (:func:`bank.imports.stage`), and the confirm
names both, so it can never import a second upload. Office staff only: an import opens accounts,
issues cards and carries balances into the ledger."""

from __future__ import annotations

import hashlib

from fastapi import FastAPI
from starlette.datastructures import UploadFile

from bank import db, imports
from bank.errors import InvalidInput

from .. import spreadsheets
from . import web
from .web import Console

MAX_UPLOAD = 10 * 2**20        # a 10,000-row roster is about 0.3 MB
PRINT_BATCH = 100              # accounts per card-sheet link (10 A4 pages each)


def _print_batches(account_ids: list[int]) -> list[tuple[str, str]]:
    """(label, card-sheet URL) per batch of new accounts, short enough for the sheet's query."""
    out = []
    for i in range(0, len(account_ids), PRINT_BATCH):
        part = account_ids[i:i + PRINT_BATCH]
        label = f"储户 {part[0]}–{part[-1]}" if len(part) > 1 else f"储户 {part[0]}"
        out.append((label, "/cards/sheet.pdf?accounts=" + ",".join(map(str, part))))
    return out


def register(app: FastAPI, console: Console) -> None:
    @console.page("office")
    def index(ctx: web.Ctx):
        return console.render(ctx, "imports.html", kinds=imports.KINDS, specs=imports.SPECS)

    @console.page("office")
    def template(ctx: web.Ctx, name: str):
        kind = name.removesuffix(".xlsx")
        if kind not in imports.KINDS or not name.endswith(".xlsx"):
            raise web.NotFound("没有这个模板。", f"no template {name!r}")
        return web.xlsx_response(spreadsheets.template(kind), f"{imports.KINDS[kind]}导入模板.xlsx")

    # Not atomic: the file is read before any transaction, so the store's write lock is held only
    # while staging (preview) or while checking and writing (confirm).
    @console.action("office", upload_bytes=MAX_UPLOAD, atomic=False)
    def preview(ctx: web.Ctx, form):
        kind = web.choice(form, "kind", "导入内容", imports.KINDS)
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("请选择要导入的 Excel 文件(.xlsx)。", "no file")
        data = upload.file.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise InvalidInput(f"上传的文件太大(不能超过 {MAX_UPLOAD // 2**20} MB)。", "file too large")
        filename = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:100]
        book = spreadsheets.read(data, kind)
        plan = imports.plan(ctx.conn, book)
        staged = None
        with db.transaction(ctx.conn):
            if plan.ok:
                staged = imports.stage(ctx.conn, user_id=ctx.user.user_id, kind=kind, filename=filename,
                                       content=data, preview=plan.counts)
            ctx.audit("import.preview", filename, {"kind": kind, "sha256": hashlib.sha256(data).hexdigest(),
                                                   "rows": plan.rows, "problems": len(plan.problems), **plan.counts})
        return console.render(ctx, "import_preview.html", status_code=200 if plan.ok else 400, kind=kind,
                              kinds=imports.KINDS, filename=filename, size=len(data), plan=plan, staged=staged,
                              changed=False, minutes=imports.UPLOAD_MINUTES)

    @console.action("office", atomic=False)
    def confirm(ctx: web.Ctx, form):
        token = web.text(form, "token", "上传编号", max_len=64)
        sha256 = web.text(form, "sha256", "文件校验值", max_len=64)
        staged = imports.confirmable(ctx.conn, token, user_id=ctx.user.user_id, sha256=sha256)
        book = spreadsheets.read(staged.content, staged.kind)
        with db.transaction(ctx.conn):      # checked again and written, with its audit record, or nothing
            imports.confirmable(ctx.conn, token, user_id=ctx.user.user_id, sha256=sha256)   # a second click waited
            result = imports.run(ctx.conn, book, recorded_by=ctx.recorder, expect=staged.preview)
            if result.written:
                imports.finish(ctx.conn, token, result.as_dict())
                ctx.audit(f"import.{staged.kind}", staged.filename, {"sha256": staged.sha256, "rows": result.plan.rows,
                                                                     **result.plan.counts})
            else:
                # The store changed since the preview (someone added the same households, or a
                # compound): the file no longer does what the preview showed.
                ctx.audit("import.refused", staged.filename, {"kind": staged.kind, "sha256": staged.sha256,
                                                              "problems": len(result.plan.problems),
                                                              **result.plan.counts})
        if not result.written:
            return console.render(ctx, "import_preview.html", status_code=409, kind=staged.kind, kinds=imports.KINDS,
                                  filename=staged.filename, size=len(staged.content), plan=result.plan, staged=None,
                                  changed=True, minutes=imports.UPLOAD_MINUTES)
        return f"/imports/{token}", f"已导入“{staged.filename}”:{result.plan.summary()}。"

    @console.page("office")
    def done(ctx: web.Ctx, token: str):
        u = imports.upload(ctx.conn, token, user_id=ctx.user.user_id)
        if u.result is None:
            raise web.NotFound("这次上传尚未导入。", "not imported")
        return console.render(ctx, "import_done.html", upload=u, result=u.result, kinds=imports.KINDS,
                              batches=_print_batches(u.result["new_accounts"]))

    add = app.add_route
    add("/imports", index, methods=["GET"])
    add("/imports/templates/{name}", template, methods=["GET"])
    add("/imports/preview", preview, methods=["POST"])
    add("/imports/confirm", confirm, methods=["POST"])
    add("/imports/{token}", done, methods=["GET"])
