"""Simplified Chinese translation of the tutor, and the build of its Qt translation files.

    python -m desktop.translations     # lupdate -> fill kpdd_zh_CN.ts from ZH_CN -> lrelease -> .qm

`pyside6-lupdate` collects the strings from the desktop sources into the .ts file (context = class
name, as `self.tr` uses), the table below fills them in, and `pyside6-lrelease` compiles the .qm
that `desktop.settings.set_language` loads with a QTranslator. Both tools ship with PySide6.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TS_FILE = ROOT / "resources" / "translations" / "kpdd_zh_CN.ts"
SOURCES = [
    "main_window.py",
    "history_view.py",
    "settings.py",
    "models_view.py",
    "batch_view.py",
    "presenters.py",
    "about.py",
]

ZH_CN: dict[str, str] = {
    "Batch and solution sheets": "批量解题与答案讲义",
    "&Open problem list...": "打开题目列表(&O)...",
    "Open a list of problems": "打开题目列表",
    "A .txt file (one problem per paragraph), a .csv or a .jsonl list.": "一个 .txt 文件(每段一道题)、.csv 或 .jsonl 列表。",
    "Program": "程序",
    "Steps": "步骤",
    "Both": "两者",
    "Solution mode": "解题方式",
    "&Cancel": "取消(&C)",
    "Cancel the batch": "取消批量解题",
    "Batch progress": "批量进度",
    "#": "#",
    "Problem": "题目",
    "Answer": "答案",
    "Sheet &title:": "讲义标题(&T):",
    "Sheet title": "讲义标题",
    "&Student copy": "学生版(&S)",
    "&Answer key on the last page": "最后一页附答案(&A)",
    "&Export sheet...": "导出讲义(&E)...",
    "Problem lists (*.txt *.csv *.jsonl)": "题目列表 (*.txt *.csv *.jsonl)",
    "Cannot use this file: {0}": "无法使用此文件:{0}",
    "{0}: {1} problems": "{0}:{1} 道题",
    "{0} of {1} already solved": "已解 {0}/{1} 道",
    "none": "无",
    "Starting...": "正在开始...",
    "Cancelling...": "正在取消...",
    "done": "完成",
    "{0} of {1} solved, {2}": "已解 {0}/{1} 道,{2}",
    "Cancelled: {0} of {1} solved. Start again to resume.": "已取消:已解 {0}/{1} 道。再次开始即可继续。",
    "All {0} problems solved ({1} from an earlier run).": "全部 {0} 道题已解完(其中 {1} 道来自上次运行)。",
    "The batch stopped: {0}": "批量解题停止:{0}",
    "&Resume": "继续(&R)",
    "&Start": "开始(&S)",
    "Wrote {0}": "已写入 {0}",
    "Export solution sheet": "导出答案讲义",
    "PDF (*.pdf);;HTML (*.html);;Markdown (*.md)": "PDF (*.pdf);;HTML (*.html);;Markdown (*.md)",
    "Search history": "搜索历史",
    "Solved problems": "已解题目",
    "&Reopen": "重新打开(&R)",
    "Delete": "删除",
    "Export...": "导出...",
    "Reopen the selected problem": "重新打开所选题目",
    "Delete the selected problem from history": "从历史中删除所选题目",
    "Export history to a file": "把历史导出到文件",
    "Export history": "导出历史",
    "JSON (*.json);;JSON lines (*.jsonl);;Markdown (*.md);;HTML (*.html)": "JSON (*.json);;JSON lines (*.jsonl);;Markdown (*.md);;HTML (*.html)",
    "KPDD Tutor": "KPDD 数学辅导",
    "&Word problem:": "应用题(&W):",
    "Type or paste a math word problem here, pick a sample, or open a text file.": "在这里输入或粘贴一道数学应用题,或选择示例题,或打开文本文件。",
    "Word problem": "应用题",
    "Sample problems...": "示例题...",
    "Sample problems": "示例题",
    "&Open file...": "打开文件(&O)...",
    "Open a problem from a text file": "从文本文件打开题目",
    "&Mode:": "方式(&M):",
    "Program: a Python program computes the answer. Steps: worked reasoning. Both: both, and whether they agree.": "程序:由 Python 程序计算答案。步骤:逐步推理。两者:都做,并看是否一致。",
    "S&amples:": "采样数(&A):",
    "Number of solutions to sample and vote on": "采样并投票的解答数量",
    "More samples vote on the answer and give a confidence. Auto writes one solution, and five to vote on when its answer looks wrong.": "更多采样会对答案投票并给出置信度。“自动”先写一个解答,答案看起来不对时再写五个解答投票。",
    "Auto": "自动",
    "The first answer looked wrong: writing {0} more solutions to vote on...": "第一个答案看起来不对:正在再写 {0} 个解答用于投票...",
    "The first answer looked wrong, so {0} solutions were written to vote on.": "第一个答案看起来不对,所以写了 {0} 个解答来投票。",
    "Another answer had more votes, but they looked wrong for a word problem (negative, not whole, or from a program using numbers the problem does not give), so they counted less.": "另一个答案票数更多,但那些解答看起来不像应用题的答案(负数、不是整数,或程序用了题目中没有的数),所以权重较低。",
    "&Solve": "解题(&S)",
    "Solve the problem (Ctrl+Enter)": "解题 (Ctrl+Enter)",
    "Solve": "解题",
    "S&top": "停止(&T)",
    "Stop solving (Esc)": "停止解题 (Esc)",
    "Stop": "停止",
    "Show &whole solution": "显示完整解答(&W)",
    "Show the whole solution": "显示完整解答",
    "1. Core question": "1. 核心问题",
    "Core question (you can edit it)": "核心问题(可编辑)",
    "What the problem really asks, in one sentence.": "题目真正要问的是什么,用一句话说。",
    "The facts needed to answer it, one per line.": "解题所需的已知条件,每行一条。",
    "2. Key information": "2. 关键信息",
    "Key information, one fact per line (you can edit it)": "关键信息,每行一条(可编辑)",
    "3. Solution": "3. 解答",
    "The program or the steps appear here.": "程序或解题步骤会显示在这里。",
    "Steps:": "步骤:",
    "Worked steps": "解题步骤",
    "Program result": "程序结果",
    "Solve again from this question": "从这个问题重新求解",
    "Solve again from the edited core question": "从修改后的核心问题重新求解",
    "Solve again from these facts": "从这些信息重新求解",
    "Solve again from the edited key information": "从修改后的关键信息重新求解",
    "Answer:": "答案:",
    "Agreement and confidence": "一致性与置信度",
    "&Your answer:": "你的答案(&Y):",
    "e.g. 42": "例如 42",
    "Your answer": "你的答案",
    "&Check my answer": "检查我的答案(&C)",
    "Check my answer": "检查我的答案",
    "History": "历史",
    "&File": "文件(&F)",
    "&Open problem...": "打开题目(&O)...",
    "&Batch and solution sheets...": "批量解题与讲义(&B)...",
    "&Quit": "退出(&Q)",
    "&Tools": "工具(&T)",
    "&Models...": "模型(&M)...",
    "&Settings...": "设置(&S)...",
    "&History": "历史(&H)",
    "No model yet": "还没有模型",
    "KPDD Tutor needs a model to solve problems, and none is installed yet.\n\nOpen a terminal and run:\n\n    {0}\n\nIt places the default model ({1}) in your data folder; it works offline afterwards. You can also add a GGUF file of your own in Tools > Models.": "KPDD 数学辅导需要一个模型才能解题,目前还没有安装。\n\n请打开终端并运行:\n\n    {0}\n\n它会把默认模型({1})放到你的数据文件夹,之后可离线使用。你也可以在 工具 > 模型 中添加自己的 GGUF 文件。",
    "The model could not be loaded": "无法加载模型",
    "The model file could not be opened. It may be corrupt or incomplete.\n\n{0}\n\nChoose another model in Tools > Models, or run `{1}` again.": "无法打开模型文件,它可能已损坏或不完整。\n\n{0}\n\n请在 工具 > 模型 中选择其他模型,或重新运行 `{1}`。",
    "Model: not loaded yet": "模型:尚未加载",
    "Loading model {0}...": "正在加载模型 {0}...",
    "Model: {0}": "模型:{0}",
    "No model installed: run `{0}`": "未安装模型:请运行 `{0}`",
    "The tutor is working on the problem...": "辅导程序正在解题...",
    "Solving...": "正在解题...",
    "Stopping...": "正在停止...",
    "Writing the program...": "正在编写程序...",
    "Running the program in the sandbox...": "正在沙盒中运行程序...",
    "Stopped.": "已停止。",
    "The model stopped with an error: {0}": "模型出错停止:{0}",
    "The model did not produce a usable answer. Try Steps or Both, or edit the key information and solve again.": "模型没有给出可用的答案。试试“步骤”或“两者”,或修改关键信息后重新求解。",
    "Solved in {0:.1f} s.": "用时 {0:.1f} 秒。",
    "The problem was long and only its first {0} characters were used.": "题目太长,只使用了前 {0} 个字符。",
    "Something went wrong: {0}": "出错了:{0}",
    "no answer": "没有答案",
    "Hidden so you can work on it yourself: ask for a hint or show the whole solution.": "已隐藏,方便你自己思考:可以请求提示或显示完整解答。",
    "&Hint": "提示(&H)",
    "Hint: reveal the core question first": "提示:先显示核心问题",
    "No more hints": "没有更多提示了",
    "Next &hint ({0} of {1})": "下一个提示(&H)({0}/{1})",
    "Next hint": "下一个提示",
    "Type your answer first.": "请先输入你的答案。",
    "The tutor is solving the problem to check your answer...": "辅导程序正在解题以检查你的答案...",
    "The pasted text had {0} characters; only the first {1} are kept, which is more than a word problem needs.": "粘贴的文本有 {0} 个字符,只保留前 {1} 个,这对一道应用题已经足够。",
    "Open a word problem": "打开应用题",
    "Text files (*.txt *.md);;All files (*)": "文本文件 (*.txt *.md);;所有文件 (*)",
    "Cannot open the file": "无法打开文件",
    "{0} is a folder, not a text file.": "{0} 是文件夹,不是文本文件。",
    "{0} is not a word problem: open a plain text file (.txt) of at most {1} KB.": "{0} 不是应用题:请打开不超过 {1} KB 的纯文本文件(.txt)。",
    "Reopened from history.": "已从历史中重新打开。",
    "Models": "模型",
    "Name": "名称",
    "Size": "大小",
    "Quantization": "量化",
    "Architecture": "架构",
    "Trained on KPDD": "KPDD 训练",
    "Status": "状态",
    "File": "文件",
    "&Add GGUF file...": "添加 GGUF 文件(&A)...",
    "&Use selected": "使用所选(&U)",
    "&Remove": "移除(&R)",
    "CPU &threads:": "CPU 线程(&T):",
    "Automatic": "自动",
    "Automatic uses the cores that are idle when you press Solve. More threads than idle cores make a solve much slower.": "自动:按下解题时使用空闲的 CPU 核心。线程数多于空闲核心会使解题慢很多。",
    "CPU threads": "CPU 线程",
    "yes ({0})": "是({0})",
    "no (few-shot)": "否(少样本提示)",
    "active": "使用中",
    "default": "默认",
    "unusable: {0}": "不可用:{0}",
    "No models yet. Run `{0}` in a terminal to install the default model, or add a GGUF file.": "还没有模型。请在终端运行 `{0}` 安装默认模型,或添加一个 GGUF 文件。",
    "The chosen model is not usable; the default is used instead.": "所选模型不可用,改用默认模型。",
    "Not added: {0}": "未添加:{0}",
    "Added {0}.": "已添加 {0}。",
    "Add a GGUF model": "添加 GGUF 模型",
    "GGUF models (*.gguf)": "GGUF 模型 (*.gguf)",
    "{0} will be used for the next solve.": "下次解题将使用 {0}。",
    "Settings": "设置",
    "Follow the system": "跟随系统",
    "Light": "浅色",
    "Dark": "深色",
    "System size": "系统大小",
    " pt": " 磅",
    "&Theme:": "主题(&T):",
    "&Font size:": "字号(&F):",
    "&Language:": "语言(&L):",
    "Theme": "主题",
    "Font size": "字号",
    "Language": "语言",
    "The program ran and computed answer = {0}.": "程序运行完毕,算出 answer = {0}。",
    "The program ran but never set answer; its last result, {0} = {1}, is taken as the answer.": "程序运行了，但没有设置 answer；取其最后的结果 {0} = {1} 作为答案。",
    "It printed: {0}": "它输出了:{0}",
    "The program ran, but its answer is not a number: {0}": "程序运行了,但它的答案不是数字:{0}",
    "The program is not valid Python, so it could not run.": "程序不是合法的 Python 代码,无法运行。",
    "The program tried to do something the tutor does not allow (files, network or imports).": "程序试图做辅导程序不允许的事情(文件、网络或导入模块)。",
    "The program ran too long and was stopped.": "程序运行时间过长,已被停止。",
    "The program used too much memory and was stopped.": "程序占用内存过多,已被停止。",
    "The program stopped with an error while running.": "程序运行时出错停止。",
    "The program ran but did not set a number called answer.": "程序运行了,但没有给名为 answer 的变量赋一个数字。",
    "The program and the steps agree: more likely right, but still check it.": "程序和步骤的答案一致:更可能正确,但仍请检查。",
    "The program and the steps disagree: double-check this one.": "程序和步骤的答案不一致:请再检查一下。",
    "The program and the steps disagree. The program worked out this answer on the way, then went a step further, so the steps' answer is shown: double-check this one.": "程序和步骤的答案不一致。程序在中途算出了这个答案,却又多算了一步,所以这里显示步骤的答案:请再检查一下。",
    "Confidence: {0}% of {1} solutions give this answer.": "置信度:{1} 个解答中有 {0}% 得出这个答案。",
    "I could not find a number in your answer.": "在你的答案里没有找到数字。",
    "The tutor has no answer of its own for this problem yet, so it cannot check yours.": "辅导程序自己还没有这道题的答案,所以无法检查你的答案。",
    "Correct: {0} matches the tutor's answer.": "正确:{0} 与辅导程序的答案一致。",
    "Not quite: {0} is not what the tutor found. Try again, or ask for a hint (the tutor can be wrong too).": "不太对:{0} 与辅导程序的答案不同。再试一次,或者请求提示(辅导程序也可能出错)。",
    "{0} differs from the tutor's answer, {1}. The tutor can be wrong too: compare your work with its key information and solution.": "{0} 与辅导程序的答案 {1} 不同。辅导程序也可能出错:请把你的解题过程与它的关键信息和解答对照一下。",
    # Help > About (desktop/about.py)
    "&Help": "帮助(&H)",
    "&About KPDD Tutor": "关于 KPDD 数学辅导(&A)",
    "About KPDD Tutor": "关于 KPDD 数学辅导",
    "KPDD Tutor {0}": "KPDD 数学辅导 {0}",
    "Version": "版本",
    "&Licenses...": "许可证(&L)...",
    "Show the license texts": "显示许可证文本",
    "Model": "模型",
    "none installed (run `{0}`)": "尚未安装(请运行 `{0}`)",
    "trained on the KPDD format ({0})": "按 KPDD 格式训练({0})",
    "training sitting {0}": "训练阶段 {0}",
    "{0} records ({1}), {2} steps, {3} tokens in {4} min on {5}, eval loss {6}": "{0} 条记录({1}),{2} 步,{3} 个词元,用时 {4} 分钟({5}),验证损失 {6}",
    "prompted few-shot (not trained on the KPDD format)": "少样本提示(未按 KPDD 格式训练)",
    "Format": "格式",
    "License": "许可证",
    "unknown": "未知",
    "Source": "来源",
    "package {0}, sha256 {1}": "软件包 {0},sha256 {1}",
    "An offline math word-problem tutor built on Key-Point-Driven Distillation (KPDD; Zhu et al., 2024, {0}): core question, key information, then a solution.": "一个离线的数学应用题辅导程序,基于关键点驱动蒸馏(KPDD;Zhu 等,2024,{0}):先找核心问题,再列关键信息,最后给出解答。",
    "Active model": "当前模型",
    "Program sandbox": "程序沙箱",
    "The programs a model writes run in a sandbox: checked before they run, then in a fresh process with these protections from the operating system:": "模型编写的程序在沙箱中运行:先经检查,再在全新的进程中运行,并受操作系统的以下保护:",
    "Some protections are off on this computer: the others and the sandbox's own checks still apply, but programs run less contained than they could.": "本机上有些保护未启用:其余保护和沙箱自身的检查仍然有效,但程序受到的限制比应有的少。",
    "System-call filter (seccomp)": "系统调用过滤(seccomp)",
    "File and network rules (Landlock)": "文件与网络规则(Landlock)",
    "No network (a network namespace of its own)": "无网络(独立的网络命名空间)",
    "Unprivileged user": "非特权用户",
    "A fresh process for each program": "每个程序一个全新进程",
    "Job Object (Windows)": "作业对象(Windows)",
    "Restricted token (Windows)": "受限令牌(Windows)",
    "Network": "网络",
    "sandbox-exec profile (macOS)": "sandbox-exec 配置(macOS)",
    "Sandbox worker": "沙箱工作进程",
    "in force": "已启用",
    "in force (the app does not run as root)": "已启用(应用未以 root 身份运行)",
    "applied (untried on this platform)": "已应用(未在此平台上测试)",
    "off: the pyseccomp package is missing": "未启用:缺少 pyseccomp 包",
    "off: the system library libseccomp.so.2 is missing": "未启用:缺少系统库 libseccomp.so.2",
    "off: the filter could not be built": "未启用:无法建立过滤器",
    "off: the landlock package is missing": "未启用:缺少 landlock 包",
    "off: this kernel does not offer it": "未启用:此内核不提供该功能",
    "off: this system does not let the app make one (user namespaces)": "未启用:此系统不允许应用创建(用户命名空间)",
    "off: the switch to the user nobody failed": "未启用:无法切换到用户 nobody",
    "not available on this system": "此系统上不可用",
    "not blocked on Windows": "在 Windows 上未被阻止",
    "off: the Job Object could not be set": "未启用:无法设置作业对象",
    "off: the token could not be lowered": "未启用:无法降低令牌权限",
    "off: sandbox-exec is missing": "未启用:缺少 sandbox-exec",
    "off: the sandbox could not start": "未启用:沙箱无法启动",
    "off (test)": "未启用(测试)",
    "off": "未启用",
    "Licenses": "许可证",
    "KPDD Tutor is licensed under {0}.": "KPDD 数学辅导以 {0} 许可证发布。",
    "Bundled third-party parts:": "随附的第三方组件:",
    "Qt and PySide6 are dynamically linked under the LGPL and can be replaced.": "Qt 和 PySide6 按 LGPL 动态链接,可以替换。",
    "License texts": "许可证文本",
}


def tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    return found


def fill_ts(path: Path = TS_FILE) -> tuple[int, list[str]]:
    """Put the ZH_CN translations into the .ts file; returns (translated, missing sources)."""
    text = path.read_text(encoding="utf-8")
    missing: list[str] = []
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        source = html.unescape(match.group(2))
        translation = ZH_CN.get(source)
        if translation is None:
            missing.append(source)
            return match.group(0)
        count += 1
        return f"{match.group(1)}<translation>{html.escape(translation, quote=False)}</translation>"

    text = re.sub(r"(<source>(.*?)</source>\s*(?:<comment>.*?</comment>\s*)?)<translation[^>]*>.*?</translation>",
                  replace, text, flags=re.DOTALL)  # fmt: skip
    path.write_text(text, encoding="utf-8")
    return count, missing


def build() -> int:
    sources = [str(ROOT / "desktop" / name) for name in SOURCES]
    subprocess.run([tool("pyside6-lupdate"), *sources, "-no-obsolete", "-ts", str(TS_FILE)], check=True)
    count, missing = fill_ts()
    for source in missing:
        print(f"untranslated: {source!r}", file=sys.stderr)
    subprocess.run(
        [tool("pyside6-lrelease"), str(TS_FILE), "-qm", str(TS_FILE.with_suffix(".qm"))], check=True
    )
    print(f"{count} strings translated, {len(missing)} missing")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(build())
