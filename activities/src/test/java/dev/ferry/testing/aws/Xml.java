package dev.ferry.testing.aws;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/** Just enough XML for the stand-ins: read a request body, write a response. */
final class Xml {
  private Xml() {}

  static Element parse(InputStream body) {
    try {
      DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
      factory.setNamespaceAware(false);
      return factory.newDocumentBuilder().parse(body).getDocumentElement();
    } catch (Exception e) {
      throw new IllegalArgumentException("unreadable XML: " + e.getMessage(), e);
    }
  }

  static List<Element> children(Element parent, String name) {
    List<Element> out = new ArrayList<>();
    if (parent == null) {
      return out;
    }
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && e.getTagName().equals(name)) {
        out.add(e);
      }
    }
    return out;
  }

  static Element child(Element parent, String name) {
    List<Element> all = children(parent, name);
    return all.isEmpty() ? null : all.get(0);
  }

  static String text(Element parent, String name) {
    Element e = child(parent, name);
    return e == null ? null : e.getTextContent().trim();
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  /** {@code <name>text</name>}, or nothing when text is null. */
  static String tag(String name, Object text) {
    return text == null ? "" : "<" + name + ">" + escape(String.valueOf(text)) + "</" + name + ">";
  }
}
