"""Settings → Audio devices: the softphone's microphone, speaker and ringer, a test tone and a
microphone test with a live level meter.

The devices are PortAudio's (through ``sounddevice``, as the softphone's sound bridge uses them)
and are stored by *name* in ``phone.options.audio`` (``input_device``, ``output_device``,
``ring_device``; absent = the system default): an index changes when a headset is plugged in, a
name does not. A stored device that is not connected stays chosen — it is used again when it is
back — and the page says that the system default is used meanwhile.

Streams run on PortAudio's threads; what they find (the level, the end of the tone, a failure)
reaches the widgets through Qt signals.
"""

from __future__ import annotations

import logging
import math
import threading
from array import array
from collections import deque
from collections.abc import Mapping
from typing import Any

from providers.sip import sound

from ui.i18n import isolate, para, translate
from ui.qt import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QObject,
    QProgressBar,
    QPushButton,
    QtGui,
    QVBoxLayout,
    QWidget,
    named,
    pyqtSignal,
)

__all__ = ["AUDIO_DEVICE_KEYS", "AudioPage"]

log = logging.getLogger(__name__)

#: The keys of ``phone.options.audio`` this page edits (role, key).
AUDIO_DEVICE_KEYS = (("microphone", "input_device"), ("speaker", "output_device"), ("ringer", "ring_device"))

_TONE_HZ, _TONE_SECONDS = 440.0, 1.0
_ECHO_DELAY_BLOCKS = 10  # 10 × 50 ms: the echo comes back half a second later
_HELP_STYLE = "color: palette(mid);"
_WARNING_STYLE = "color: #b06000;"


def _backend() -> Any:
    return sound._sounddevice()  # looked up on each use: the tests put a fake PortAudio there


def level_percent(pcm: bytes) -> int:
    """The peak of 16-bit *pcm* on a 60 dB scale, 0–100 (what the meter shows)."""
    samples = array("h")
    samples.frombytes(pcm[: len(pcm) // 2 * 2])
    peak = max((abs(s) for s in samples), default=0)
    if peak <= 0:
        return 0
    db = 20 * math.log10(peak / 32768)
    return max(0, min(100, round((db + 60) / 60 * 100)))


def tone(rate: int, hz: float = _TONE_HZ, seconds: float = _TONE_SECONDS) -> bytes:
    """*seconds* of a sine at *hz*, 16-bit mono at *rate*, faded in and out (no clicks)."""
    count = int(rate * seconds)
    fade = max(1, rate // 50)
    step = 2 * math.pi * hz / rate
    wave = array(
        "h",
        (
            int(0.3 * 32767 * math.sin(step * n) * min(1.0, n / fade, (count - n) / fade))
            for n in range(count)
        ),
    )
    return wave.tobytes()


class _Signals(QObject):
    level = pyqtSignal(int)
    tone_done = pyqtSignal(str)  # "" when played, else why not
    mic_failed = pyqtSignal(str)


class AudioPage(QWidget):
    """The page; ``value()`` gives the device names to store (``None`` = system default)."""

    def __init__(self, audio: Mapping[str, Any] | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("audioPage")
        audio = audio if isinstance(audio, Mapping) else {}
        self._stored: dict[str, str | None] = {}
        for _role, key in AUDIO_DEVICE_KEYS:
            value = audio.get(key)
            self._stored[key] = str(value) if value not in (None, "") else None
        self._mode = str(audio.get("mode") or "device")
        self._signals = _Signals(self)
        self._signals.level.connect(self._show_level)
        self._signals.tone_done.connect(self._tone_done)
        self._signals.mic_failed.connect(self._mic_failed)
        self._mic_streams: list[Any] = []
        self._tone_thread: threading.Thread | None = None
        self.devices: list[dict[str, Any]] = []
        self.problem = ""  # PortAudio could not be asked

        column = QVBoxLayout(self)
        self.state_label = named(QLabel(), "audioState")
        self.state_label.setWordWrap(True)
        column.addWidget(self.state_label)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        column.addLayout(form)
        self.combos: dict[str, QComboBox] = {}
        self.labels: dict[str, QLabel] = {}
        for _role, key in AUDIO_DEVICE_KEYS:
            combo = named(QComboBox(), f"audio_{key}")
            label = QLabel()
            label.setBuddy(combo)
            self.combos[key], self.labels[key] = combo, label
            form.addRow(label, combo)
            combo.currentIndexChanged.connect(self._show_notices)
        self.notice_label = named(QLabel(), "audioNotice")
        self.notice_label.setWordWrap(True)
        self.notice_label.setStyleSheet(_WARNING_STYLE)

        self.refresh_button = named(QPushButton(), "audioRefresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.tone_button = named(QPushButton(), "audioToneTest")
        self.tone_button.clicked.connect(self.play_tone)
        self.tone_result = named(QLabel(), "audioToneResult")
        self.tone_result.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.tone_button)
        row.addWidget(self.tone_result, 1)
        tone_box = QVBoxLayout()
        tone_box.addWidget(self.notice_label)  # hidden unless a chosen device is gone
        tone_box.addLayout(row)
        form.addRow("", tone_box)

        self.mic_button = named(QPushButton(), "audioMicTest")
        self.mic_button.setCheckable(True)
        self.mic_button.toggled.connect(self._mic_toggled)
        self.echo_box = named(QCheckBox(), "audioEcho")
        self.meter = named(QProgressBar(), "audioLevel")
        self.meter.setRange(0, 100)
        self.meter.setValue(0)
        self.meter.setTextVisible(False)
        mic_row = QHBoxLayout()
        mic_row.addWidget(self.mic_button)
        mic_row.addWidget(self.echo_box)
        mic_row.addWidget(self.meter, 1)
        self.mic_result = named(QLabel(), "audioMicResult")
        self.mic_result.setWordWrap(True)
        self.mic_result.setStyleSheet(_WARNING_STYLE)
        self.mic_result.hide()
        mic_box = QVBoxLayout()
        mic_box.addLayout(mic_row)
        mic_box.addWidget(self.mic_result)  # hidden: takes no room
        form.addRow("", mic_box)
        refresh_row = QHBoxLayout()
        refresh_row.addWidget(self.refresh_button)
        refresh_row.addStretch(1)
        form.addRow("", refresh_row)
        self.help_label = named(QLabel(), "audioHelp")
        self.help_label.setWordWrap(True)
        self.help_label.setStyleSheet(_HELP_STYLE)
        column.addWidget(self.help_label)
        column.addStretch(1)
        self._loaded = False  # PortAudio is asked when the page is first shown, not before
        for _role, key in AUDIO_DEVICE_KEYS:
            self._fill(key)
        self.retranslate()

    def showEvent(self, event: QtGui.QShowEvent | None) -> None:
        if not self._loaded:
            self.refresh()
        super().showEvent(event)

    # ------------------------------------------------------------------ devices
    def refresh(self) -> None:
        """Ask PortAudio for its devices (again: it keeps the list it found when it started)."""
        if self._mic_streams or (self._tone_thread is not None and self._tone_thread.is_alive()):
            return  # PortAudio cannot start over under an open stream
        chosen = {key: self.combos[key].currentData() for _r, key in AUDIO_DEVICE_KEYS}
        again, self._loaded = self._loaded, True
        if again:  # what is chosen on the page now (the first time: the stored devices)
            self._stored = {key: value if isinstance(value, str) else None for key, value in chosen.items()}
        try:
            sd = _backend()
            if again:
                sound._refresh(sd)
            self.devices = sound.list_devices(sd)
            self.problem = ""
        except Exception as exc:  # no PortAudio library at all
            self.devices = []
            self.problem = f"{type(exc).__name__}: {exc}"
        for _role, key in AUDIO_DEVICE_KEYS:
            self._fill(key)
        self._show_state()

    def _fill(self, key: str) -> None:
        combo = self.combos[key]
        kind = "inputs" if key == "input_device" else "outputs"
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(translate("AudioPage", "System default"), None)
        names: list[str] = []
        for dev in self.devices:
            if dev[kind] > 0 and dev["name"] not in names:
                names.append(dev["name"])
                combo.addItem(dev["name"], dev["name"])
        stored = self._stored.get(key)
        if stored is not None and stored not in names:
            combo.addItem(
                translate("AudioPage", "{name} (not connected)").format(name=isolate(stored)), stored
            )
        combo.setCurrentIndex(max(0, combo.findData(stored)) if stored is not None else 0)
        combo.blockSignals(False)

    def connected(self, key: str) -> bool:
        """Whether the device chosen for *key* is connected (the system default: any device)."""
        name = self.combos[key].currentData()
        kind = "inputs" if key == "input_device" else "outputs"
        return any(dev[kind] > 0 and (name is None or dev["name"] == name) for dev in self.devices)

    def value(self) -> dict[str, str | None]:
        """The device name of each key; ``None`` for the system default."""
        out: dict[str, str | None] = {}
        for _role, key in AUDIO_DEVICE_KEYS:
            data = self.combos[key].currentData()
            out[key] = data if isinstance(data, str) else None
        return out

    def _show_state(self) -> None:
        if self.problem:
            text = translate("AudioPage", "No audio devices found: PortAudio cannot be used ({why}).").format(
                why=self.problem
            )
        elif not self.devices:
            text = translate(
                "AudioPage",
                "No audio devices found on this computer. Calls connect without sound until a "
                "microphone and a speaker (or a headset) are connected.",
            )
        else:
            text = ""
        if self._mode != "device":
            text = " ".join(
                t
                for t in (
                    text,
                    translate(
                        "AudioPage",
                        "The phone's audio mode is “{mode}” (in the phone options): these devices are "
                        "used only in the “device” mode.",
                    ).format(mode=self._mode),
                )
                if t
            )
        self.state_label.setText(para(text))
        self.state_label.setStyleSheet(_WARNING_STYLE if text else "")
        self.state_label.setVisible(bool(text))
        have_output = any(dev["outputs"] > 0 for dev in self.devices)
        have_input = any(dev["inputs"] > 0 for dev in self.devices)
        self.tone_button.setEnabled(have_output)
        self.mic_button.setEnabled(have_input)
        self.echo_box.setEnabled(have_input and have_output)
        self._show_notices()

    def _show_notices(self) -> None:
        lines = []
        for role, key in AUDIO_DEVICE_KEYS:
            name = self.combos[key].currentData()
            if isinstance(name, str) and not self.connected(key):
                lines.append(
                    translate(
                        "AudioPage",
                        "The {role} “{name}” is not connected: the system default is used until it is back.",
                    ).format(role=self._role_text(role), name=isolate(name))
                )
        self.notice_label.setText(para("\n".join(lines)))
        self.notice_label.setVisible(bool(lines))

    # ------------------------------------------------------------------ test tone
    def play_tone(self) -> None:
        """1 s of 440 Hz on the chosen speaker, played on a thread of its own."""
        if self._tone_thread is not None and self._tone_thread.is_alive():
            return
        device = self.combos["output_device"].currentData()
        self.tone_button.setEnabled(False)
        self.tone_result.setText(translate("AudioPage", "Playing…"))
        self._tone_thread = threading.Thread(
            target=self._play, args=(device,), name="callsys-test-tone", daemon=True
        )
        self._tone_thread.start()

    def _play(self, device: str | None) -> None:
        try:
            sd = _backend()
            chosen, _notice = sound.pick_device(sd, device, "output")
            rate = int(sd.query_devices(chosen, "output")["default_samplerate"]) or sound.RATE
            stream = sd.RawOutputStream(samplerate=rate, channels=1, dtype="int16", device=chosen)
            stream.start()
            try:
                stream.write(tone(rate))
            finally:
                stream.stop()
                stream.close()
        except Exception as exc:
            self._signals.tone_done.emit(f"{type(exc).__name__}: {exc}")
            return
        self._signals.tone_done.emit("")

    def _tone_done(self, why: str) -> None:
        self.tone_button.setEnabled(any(dev["outputs"] > 0 for dev in self.devices))
        if why:
            self.tone_result.setText(
                translate("AudioPage", "The tone could not be played: {why}").format(why=why)
            )
        else:
            self.tone_result.setText(translate("AudioPage", "Played: did you hear a beep?"))

    def wait_for_tone(self, timeout: float = 5.0) -> None:
        thread = self._tone_thread
        if thread is not None:
            thread.join(timeout)

    # ------------------------------------------------------------------ microphone test
    def _mic_toggled(self, on: bool) -> None:
        if on:
            self.start_mic_test()
        else:
            self.stop_mic_test()
        self.retranslate()

    def start_mic_test(self) -> None:
        """The chosen microphone's level on the meter; with "echo", played back half a second
        later on the chosen speaker."""
        if self._mic_streams:
            return
        self.mic_result.setText("")
        self.mic_result.hide()
        echo: deque[bytes] = deque(maxlen=4 * _ECHO_DELAY_BLOCKS)
        signals = self._signals

        def record(indata: Any, _frames: int, _time: Any, _status: Any) -> None:
            pcm = bytes(indata)
            signals.level.emit(level_percent(pcm))
            echo.append(pcm)

        def play(outdata: Any, _frames: int, _time: Any, _status: Any) -> None:
            if len(echo) > _ECHO_DELAY_BLOCKS:
                block = echo.popleft()
                outdata[: len(block)] = block
                if len(block) < len(outdata):
                    outdata[len(block) :] = bytes(len(outdata) - len(block))
            else:
                outdata[:] = bytes(len(outdata))

        streams: list[Any] = []
        try:
            sd = _backend()
            mic, _notice = sound.pick_device(sd, self.combos["input_device"].currentData(), "input")
            rate = int(sd.query_devices(mic, "input")["default_samplerate"]) or sound.RATE
            streams.append(
                sd.RawInputStream(
                    samplerate=rate,
                    channels=1,
                    dtype="int16",
                    device=mic,
                    blocksize=rate // 20,
                    callback=record,
                )
            )
            if self.echo_box.isChecked():
                out, _notice = sound.pick_device(sd, self.combos["output_device"].currentData(), "output")
                streams.append(
                    sd.RawOutputStream(
                        samplerate=rate,
                        channels=1,
                        dtype="int16",
                        device=out,
                        blocksize=rate // 20,
                        callback=play,
                    )
                )
            for stream in streams:
                stream.start()
        except Exception as exc:
            self._close(streams)
            self._signals.mic_failed.emit(f"{type(exc).__name__}: {exc}")
            return
        self._mic_streams = streams

    def stop_mic_test(self) -> None:
        streams, self._mic_streams = self._mic_streams, []
        self._close(streams)
        self.meter.setValue(0)

    @staticmethod
    def _close(streams: list[Any]) -> None:
        for stream in streams:
            try:
                stream.stop()
                stream.close()
            except Exception:
                log.debug("closing a test stream failed", exc_info=True)

    def _show_level(self, value: int) -> None:
        if self._mic_streams:
            self.meter.setValue(value)

    def _mic_failed(self, why: str) -> None:
        self.mic_button.blockSignals(True)
        self.mic_button.setChecked(False)
        self.mic_button.blockSignals(False)
        self.mic_result.setText(
            translate("AudioPage", "The microphone could not be opened: {why}").format(why=why)
        )
        self.mic_result.show()
        self.retranslate()

    def close_streams(self) -> None:
        """Stop every test (the dialog closes)."""
        self.stop_mic_test()
        self.wait_for_tone()

    # ------------------------------------------------------------------ texts
    @staticmethod
    def _role_text(role: str) -> str:
        if role == "microphone":
            return translate("AudioPage", "microphone")
        if role == "speaker":
            return translate("AudioPage", "speaker")
        return translate("AudioPage", "ringer")

    def retranslate(self) -> None:
        self.labels["input_device"].setText(translate("AudioPage", "Microphone:"))
        self.labels["output_device"].setText(translate("AudioPage", "Speaker:"))
        self.labels["ring_device"].setText(translate("AudioPage", "Ringtone on:"))
        for key, combo in self.combos.items():
            combo.setAccessibleName(self.labels[key].text().rstrip(":"))
            combo.setItemText(0, translate("AudioPage", "System default"))
        self.tone_button.setText(translate("AudioPage", "Play a test tone"))
        self.tone_button.setAccessibleName(translate("AudioPage", "Play a test tone on the speaker"))
        self.mic_button.setText(
            translate("AudioPage", "Stop the test")
            if self.mic_button.isChecked()
            else translate("AudioPage", "Test the microphone")
        )
        self.echo_box.setText(translate("AudioPage", "Hear yourself (echo)"))
        self.echo_box.setAccessibleName(
            translate("AudioPage", "Play the microphone back on the speaker during the test")
        )
        self.mic_button.setAccessibleName(translate("AudioPage", "Test the microphone with a level meter"))
        self.refresh_button.setAccessibleName(translate("AudioPage", "Look for audio devices again"))
        self.meter.setAccessibleName(translate("AudioPage", "Microphone level"))
        self.refresh_button.setText(translate("AudioPage", "Look for devices again"))
        self.help_label.setText(
            para(
                translate(
                    "AudioPage",
                    "For the built-in softphone. Devices are remembered by name, so a headset is "
                    "found again after it is plugged into another port; “System default” follows "
                    "the computer's own choice.",
                )
            )
        )
