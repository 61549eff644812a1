package io.vectorsync.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TextSplitterTest {

    @Test
    void paragraphsAreChunksOfTheirOwn() {
        TextSplitter s = new TextSplitter(100, 20);
        assertThat(s.split("First paragraph.\r\n\r\n  Second one.  \n \t\n\n\nThird.\n"))
                .containsExactly("First paragraph.", "Second one.", "Third.");
        assertThat(s.split("")).isEmpty();
        assertThat(s.split(" \n\n \n")).isEmpty();
    }

    @Test
    void aLongParagraphIsPackedBySentencesWithOverlap() {
        TextSplitter s = new TextSplitter(40, 15);
        String p = "One two three. Four five six! Seven eight? Nine ten eleven. Twelve.";
        List<String> chunks = s.split(p);
        assertThat(chunks).allSatisfy(c -> assertThat(c.length()).isLessThanOrEqualTo(40));
        assertThat(chunks).containsExactly("One two three. Four five six!", "Four five six! Seven eight?",
                "Seven eight? Nine ten eleven. Twelve.");
        // Every chunk is a piece of the paragraph as written.
        assertThat(chunks).allSatisfy(c -> assertThat(p).contains(c));
        assertThat(new TextSplitter(40, 0).split(p))
                .containsExactly("One two three. Four five six!", "Seven eight? Nine ten eleven. Twelve.");
    }

    @Test
    void overLongSentencesAndWordsAreCutUnderTheBudget() {
        TextSplitter s = new TextSplitter(10, 0);
        assertThat(s.split("alpha beta gamma delta")).containsExactly("alpha beta", "gamma", "delta");
        assertThat(s.split("abcdefghijklmnopqrstuvwxyz")).containsExactly("abcdefghij", "klmnopqrst", "uvwxyz");
        // A surrogate pair is never cut in two.
        String emoji = "aaaaaaaaa\uD83D\uDE00bbb";
        assertThat(s.split(emoji)).containsExactly("aaaaaaaaa", "\uD83D\uDE00bbb");
    }

    @Test
    void deterministicAndLocal() {
        Random r = new Random(7);
        List<String> paragraphs = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            StringBuilder b = new StringBuilder();
            for (int k = 0, n = 1 + r.nextInt(40); k < n; k++) {
                b.append("word").append(r.nextInt(1000)).append(r.nextInt(8) == 0 ? ". " : " ");
            }
            paragraphs.add(b.toString().strip() + ".");
        }
        TextSplitter s = new TextSplitter(120, 30);
        String text = String.join("\n\n", paragraphs);
        List<String> once = s.split(text);
        assertThat(s.split(text)).isEqualTo(once);
        assertThat(once).allSatisfy(c -> assertThat(c.length()).isLessThanOrEqualTo(120));
        // A paragraph inserted in the middle adds its own chunks and leaves every other chunk (and id) as it was.
        List<String> edited = new ArrayList<>(paragraphs);
        edited.add(15, "An inserted paragraph.");
        List<String> after = s.split(String.join("\n\n", edited));
        assertThat(after).hasSize(once.size() + 1).containsAll(once).contains("An inserted paragraph.");
        List<String> idsBefore = ChunkIds.of("doc", once);
        List<String> idsAfter = ChunkIds.of("doc", after);
        assertThat(idsAfter).containsAll(idsBefore);
    }

    @Test
    void idsCountOccurrencesOfTheSameText() {
        List<String> ids = ChunkIds.of("d-1", List.of("same", "other", "same"));
        assertThat(ids.get(0)).matches("d-1:[0-9a-f]{16}:1");
        assertThat(ids.get(2)).isEqualTo(ids.get(0).substring(0, ids.get(0).length() - 1) + "2");
        assertThat(ids.get(1)).doesNotStartWith(ids.get(0).substring(0, 20));
        assertThat(ChunkIds.of("d-1", List.of("other"))).containsExactly(ids.get(1));
    }

    @Test
    void refusesAnOverlapAsLargeAsTheBudget() {
        assertThatThrownBy(() -> new TextSplitter(10, 10)).isInstanceOf(IllegalArgumentException.class);
    }
}
