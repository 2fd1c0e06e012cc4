package io.pgrelay.core.cluster;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LsnTest {
    @Test
    void parse() {
        assertThat(Lsn.parse("0/0")).isZero();
        assertThat(Lsn.parse("0/3000148")).isEqualTo(0x3000148L);
        assertThat(Lsn.parse("16/B374D848")).isEqualTo(0x16_B374D848L);
        assertThat(Lsn.parse("16/b374d848")).isEqualTo(0x16_B374D848L);
        assertThat(Lsn.parse("00000016/0B374D84")).isEqualTo(0x16_0B374D84L);
        assertThat(Lsn.parse("FFFFFFFF/FFFFFFFF")).isEqualTo(-1L);
    }

    @Test
    void absentIsInvalid() {
        assertThat(Lsn.parse(null)).isEqualTo(Lsn.INVALID);
        assertThat(Lsn.parse("")).isEqualTo(Lsn.INVALID);
    }

    @Test
    void formatLikeTheServer() {
        assertThat(Lsn.format(0)).isEqualTo("0/0");
        assertThat(Lsn.format(0x3000148L)).isEqualTo("0/3000148");
        assertThat(Lsn.format(0x16_B374D848L)).isEqualTo("16/B374D848");
        assertThat(Lsn.format(-1L)).isEqualTo("FFFFFFFF/FFFFFFFF");
    }

    @Test
    void roundTrip() {
        long[] values = {0, 1, 0xffffffffL, 0x1_00000000L, 0x16_B374D848L, Long.MAX_VALUE, Long.MIN_VALUE, -1L};
        for (long value : values) {
            assertThat(Lsn.parse(Lsn.format(value))).as(Lsn.format(value)).isEqualTo(value);
        }
    }

    @Test
    void compareIsUnsigned() {
        assertThat(Lsn.compare(1, 2)).isNegative();
        assertThat(Lsn.compare(2, 2)).isZero();
        assertThat(Lsn.compare(Lsn.parse("1/0"), Lsn.parse("0/FFFFFFFF"))).isPositive();
        // Above 7FFFFFFF/FFFFFFFF the signed value is negative; the position is still higher.
        assertThat(Lsn.compare(Lsn.parse("80000000/0"), Lsn.parse("7FFFFFFF/FFFFFFFF"))).isPositive();
        assertThat(Lsn.compare(-1L, 0)).isPositive();
        assertThat(Lsn.compare(0, Lsn.parse("FFFFFFFF/0"))).isNegative();
    }

    @ParameterizedTest
    @ValueSource(strings = {"16B374D848", "/1", "1/", "/", "G/0", "0/X", "1/2/3", " 1/0", "1/0 ", "100000000/0",
            "0/100000000", "-1/0", "0/-1", "+1/0", "0/+1", "000000001/0", "0x1/0", "\uFF11/0"})
    void invalidInputIsRejected(String text) {
        assertThatThrownBy(() -> Lsn.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }
}
