import DefaultTheme from "vitepress/theme";
import "./course.css";

export default DefaultTheme;
