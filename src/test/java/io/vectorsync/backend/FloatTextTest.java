package io.vectorsync.backend;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Every float32 written as text reads back to itself (Java's parseFloat rounds as strtof does). */
class FloatTextTest {

    private static String text(float f) {
        return FloatText.append(new StringBuilder(), f).toString();
    }

    @Test
    void randomBitPatternsRoundTrip() {
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 2_000_000; i++) {
            float f = Float.intBitsToFloat(r.nextInt());
            if (!Float.isFinite(f)) {
                continue;
            }
            assertThat(Float.parseFloat(text(f))).as("bits %08x", Float.floatToRawIntBits(f)).isEqualTo(f);
        }
    }

    @Test
    void typicalEmbeddingValuesAndEdgesRoundTrip() {
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < 1_000_000; i++) {
            float f = (float) r.nextDouble(-1, 1);
            assertThat(Float.parseFloat(text(f))).isEqualTo(f);
        }
        for (float f : new float[] {Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE,
                -Float.MAX_VALUE, 1f, -1f, 0.1f, 1e-10f, 123456789f, 1e38f, 9.999999e-1f}) {
            assertThat(Float.parseFloat(text(f))).as(text(f)).isEqualTo(f);
        }
        assertThat(text(0f)).isEqualTo("0");
        assertThat(text(1f)).isEqualTo("1");
        assertThat(text(0.5f)).isEqualTo("5e-1");
        assertThat(FloatText.vector(new float[] {0.25f, -2f}, true)).isEqualTo("[25e-2,-2]");
        assertThat(FloatText.vector(new float[] {0.25f}, false)).isEqualTo("{25e-2}");
    }
}
